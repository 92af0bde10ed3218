"""Mochi 1 (genmoai/mochi at the commit the Dockerfile pins) behind the platform's video server.

The pipeline is assembled the way upstream's demos/cli.py does it: one GPU runs
MochiSingleGPUPipeline (with CPU offload, so it fits a 24 GB card), several GPUs run
MochiMultiGPUPipeline with one worker per GPU.
"""

import os
import random

import torch
from huggingface_hub import hf_hub_download

from genmo.lib.progress import progress_bar
from genmo.lib.utils import save_video
from genmo.mochi_preview.pipelines import (
    DecoderModelFactory,
    DitModelFactory,
    MochiMultiGPUPipeline,
    MochiSingleGPUPipeline,
    T5ModelFactory,
    linear_quadratic_schedule,
)

MODEL_NAME = "mochi-1-preview"
WEIGHTS_REPO = "genmo/mochi-1-preview"
WEIGHT_FILES = ("dit.safetensors", "decoder.safetensors")

PARAMETERS = {
    "negative_prompt": (str, "", None, None),
    "width": (int, 848, 64, 1280),
    "height": (int, 480, 64, 1280),
    # Mochi's latent frames: (num_frames - 1) must be a multiple of 6; 163 is upstream's default (5.4 s at 30 fps).
    "num_frames": (int, 31, 7, 163),
    "num_inference_steps": (int, 64, 1, 200),
    "cfg_scale": (float, 6.0, 0.0, 20.0),
    "seed": (int, None, 0, 2**32 - 1),
}


def check(params):
    if (params["num_frames"] - 1) % 6 != 0:
        return f"num_frames: got {params['num_frames']}; must be 6k+1 (7, 13, ..., 163)"
    if params["width"] % 16 or params["height"] % 16:
        return "width and height must be multiples of 16"
    return None


def load(model_dir):
    os.makedirs(model_dir, exist_ok=True)
    for name in WEIGHT_FILES:
        if not os.path.exists(os.path.join(model_dir, name)):
            print(f"downloading {name} from {WEIGHTS_REPO}", flush=True)
            hf_hub_download(repo_id=WEIGHTS_REPO, filename=name, local_dir=model_dir)
    gpus = torch.cuda.device_count()
    if gpus == 0:
        raise RuntimeError("no CUDA device visible: give the container a GPU")
    kwargs = dict(
        text_encoder_factory=T5ModelFactory(),
        dit_factory=DitModelFactory(model_path=os.path.join(model_dir, "dit.safetensors"), model_dtype="bf16"),
        decoder_factory=DecoderModelFactory(model_path=os.path.join(model_dir, "decoder.safetensors")),
    )
    if gpus > 1:
        return MochiMultiGPUPipeline(world_size=gpus, **kwargs)
    return MochiSingleGPUPipeline(
        cpu_offload=os.environ.get("MOCHI_CPU_OFFLOAD", "true") == "true",
        decode_type="tiled_spatial",
        decode_args=dict(overlap=8),
        fast_init=True,
        strict_load=True,
        **kwargs,
    )


def generate(pipeline, prompt, params, output_path):
    steps = params["num_inference_steps"]
    seed = params["seed"] if params["seed"] is not None else random.randrange(2**32)
    with progress_bar(type="tqdm"):
        frames = pipeline(
            height=params["height"],
            width=params["width"],
            num_frames=params["num_frames"],
            sigma_schedule=linear_quadratic_schedule(steps, 0.025),
            cfg_schedule=[params["cfg_scale"]] * steps,
            num_inference_steps=steps,
            batch_cfg=False,
            prompt=prompt,
            negative_prompt=params["negative_prompt"],
            seed=seed,
        )
    save_video(frames[0], output_path)
