"""CogVideoX-5b behind the platform's video server, run the way THUDM/CogVideo's
inference/cli_demo.py (at the commit the Dockerfile pins) runs text-to-video: diffusers'
CogVideoXPipeline in bfloat16 with sequential CPU offload and VAE slicing and tiling, so it fits one
24 GB card.
"""

import os
import random

import torch
from diffusers import CogVideoXDPMScheduler, CogVideoXPipeline
from diffusers.utils import export_to_video
from huggingface_hub import snapshot_download

MODEL_NAME = "CogVideoX-5b"
WEIGHTS_REPO = "THUDM/CogVideoX-5b"

PARAMETERS = {
    "negative_prompt": (str, "", None, None),
    # CogVideoX-5b generates 49 frames (6 s at 8 fps); fewer must keep (frames - 1) a multiple of 8.
    "num_frames": (int, 49, 9, 49),
    "num_inference_steps": (int, 50, 1, 200),
    "guidance_scale": (float, 6.0, 0.0, 20.0),
    "fps": (int, 8, 1, 30),
    "seed": (int, None, 0, 2**32 - 1),
}


def check(params):
    if (params["num_frames"] - 1) % 8 != 0:
        return f"num_frames: got {params['num_frames']}; must be 8k+1 (9, 17, ..., 49)"
    return None


def load(model_dir):
    path = os.path.join(model_dir, MODEL_NAME)
    if not os.path.exists(os.path.join(path, "model_index.json")):
        print(f"downloading {WEIGHTS_REPO}", flush=True)
        snapshot_download(repo_id=WEIGHTS_REPO, local_dir=path)
    if not torch.cuda.is_available():
        raise RuntimeError("no CUDA device visible: give the container a GPU")
    pipe = CogVideoXPipeline.from_pretrained(path, torch_dtype=torch.bfloat16)
    pipe.scheduler = CogVideoXDPMScheduler.from_config(pipe.scheduler.config, timestep_spacing="trailing")
    pipe.enable_sequential_cpu_offload()
    pipe.vae.enable_slicing()
    pipe.vae.enable_tiling()
    return pipe


def generate(pipeline, prompt, params, output_path):
    seed = params["seed"] if params["seed"] is not None else random.randrange(2**32)
    frames = pipeline(
        prompt=prompt,
        negative_prompt=params["negative_prompt"] or None,
        num_videos_per_prompt=1,
        num_inference_steps=params["num_inference_steps"],
        num_frames=params["num_frames"],
        use_dynamic_cfg=True,
        guidance_scale=params["guidance_scale"],
        generator=torch.Generator().manual_seed(seed),
    ).frames[0]
    export_to_video(frames, output_path, fps=params["fps"])
