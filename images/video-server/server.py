"""HTTP server around one text-to-video model (the platform's own; standard library only).

The model code lives in `backend.py` beside this file (one per image: Mochi, CogVideoX). It
provides:
    MODEL_NAME                  shown by /health
    PARAMETERS                  {name: (type, default, minimum, maximum)} a request may set
                                (default None: optional, the backend chooses)
    check(params)               an error message for a combination the model cannot take, or None
    load(model_dir)             downloads the weights into model_dir if missing, returns the pipeline
    generate(pipeline, prompt, params, output_path)   writes one MP4 to output_path

API (JSON):
    GET  /health                 200 {"status": "ready"} once the model is loaded;
                                 503 {"status": "loading"} before, 503 {"status": "failed"} if loading failed
    POST /v1/videos              {"prompt": "...", <parameters>} -> 202 {"id": ..., "status": "queued"}
    GET  /v1/videos/<id>         the job: status queued | running | done | failed, error, parameters
    GET  /v1/videos/<id>/content the MP4, once done

One GPU pipeline runs one job at a time: jobs wait in a queue. Finished videos and their job
records stay in OUTPUT_DIR, so they survive a restart.
"""

import json
import os
import queue
import re
import sys
import threading
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import backend

MODEL_DIR = os.environ.get("MODEL_DIR", "/models")
OUTPUT_DIR = os.environ.get("OUTPUT_DIR", "/output")
HOST = os.environ.get("HOST", "0.0.0.0")
PORT = int(os.environ.get("PORT", "8000"))
MAX_PROMPT_CHARS = 4000
MAX_BODY_BYTES = 64 * 1024
JOB_ID = re.compile(r"^[0-9a-f]{32}$")


class State:
    """What the model and the jobs are doing; guarded by `lock`."""

    def __init__(self):
        self.lock = threading.Lock()
        self.status = "loading"
        self.error = None
        self.pipeline = None
        self.jobs = {}
        self.queue = queue.Queue()


STATE = State()


def job_record_path(job_id):
    return os.path.join(OUTPUT_DIR, f"{job_id}.json")


def video_path(job_id):
    return os.path.join(OUTPUT_DIR, f"{job_id}.mp4")


def save_job(job):
    tmp = job_record_path(job["id"]) + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(job, f, sort_keys=True)
    os.replace(tmp, job_record_path(job["id"]))


def find_job(job_id):
    with STATE.lock:
        job = STATE.jobs.get(job_id)
        if job is not None:
            return dict(job)
    try:
        with open(job_record_path(job_id), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def set_job(job_id, **changes):
    with STATE.lock:
        job = STATE.jobs[job_id]
        job.update(changes)
        snapshot = dict(job)
    save_job(snapshot)


def load_model():
    try:
        pipeline = backend.load(MODEL_DIR)
    except Exception as exc:  # the health endpoint reports it; the process stays up to say why
        traceback.print_exc()
        with STATE.lock:
            STATE.status = "failed"
            STATE.error = f"{type(exc).__name__}: {exc}"
        return
    with STATE.lock:
        STATE.pipeline = pipeline
        STATE.status = "ready"
    print(f"{backend.MODEL_NAME} loaded", flush=True)


def work():
    while True:
        job_id = STATE.queue.get()
        with STATE.lock:
            job = dict(STATE.jobs[job_id])
            pipeline = STATE.pipeline
        set_job(job_id, status="running")
        try:
            tmp = video_path(job_id) + ".partial.mp4"
            backend.generate(pipeline, job["prompt"], job["parameters"], tmp)
            os.replace(tmp, video_path(job_id))
            set_job(job_id, status="done")
        except Exception as exc:
            traceback.print_exc()
            set_job(job_id, status="failed", error=f"{type(exc).__name__}: {exc}")


def parse_request(body):
    """The prompt and parameters of a job, or an error message."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return None, None, "body is not JSON"
    if not isinstance(data, dict):
        return None, None, "body must be a JSON object"
    prompt = data.pop("prompt", None)
    if not isinstance(prompt, str) or not prompt.strip():
        return None, None, "prompt: a non-empty string is required"
    if len(prompt) > MAX_PROMPT_CHARS:
        return None, None, f"prompt: at most {MAX_PROMPT_CHARS} characters"
    params = {}
    for name, (kind, default, low, high) in backend.PARAMETERS.items():
        value = data.pop(name, default)
        if value is None and default is None:  # optional: the backend picks (a random seed)
            params[name] = None
            continue
        if kind is str:
            if not isinstance(value, str):
                return None, None, f"{name}: a string is required"
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not float(value).is_integer()):
                return None, None, f"{name}: a number is required"
            value = kind(value)
            if (low is not None and value < low) or (high is not None and value > high):
                return None, None, f"{name}: got {value}; allowed {low} to {high}"
        params[name] = value
    if data:
        allowed = ", ".join(["prompt", *backend.PARAMETERS])
        return None, None, f"unknown field(s) {', '.join(sorted(data))}; allowed: {allowed}"
    problem = backend.check(params)
    if problem:
        return None, None, problem
    return prompt, params, None


class Handler(BaseHTTPRequestHandler):
    server_version = "platform-video-server/1"

    def send_json(self, code, payload):
        body = json.dumps(payload, sort_keys=True).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/health":
            with STATE.lock:
                status, error = STATE.status, STATE.error
            payload = {"model": backend.MODEL_NAME, "status": status}
            if error:
                payload["error"] = error
            self.send_json(200 if status == "ready" else 503, payload)
            return
        match = re.fullmatch(r"/v1/videos/([^/]+)(/content)?", path)
        if not match or not JOB_ID.match(match.group(1)):
            self.send_json(404, {"error": "not found"})
            return
        job = find_job(match.group(1))
        if job is None:
            self.send_json(404, {"error": "no such job"})
            return
        if not match.group(2):
            self.send_json(200, job)
            return
        if job["status"] != "done":
            self.send_json(409, {"error": f"job is {job['status']}"})
            return
        with open(video_path(job["id"]), "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        if self.path.split("?", 1)[0] != "/v1/videos":
            self.send_json(404, {"error": "not found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.send_json(413, {"error": f"body larger than {MAX_BODY_BYTES} bytes"})
            return
        prompt, params, error = parse_request(self.rfile.read(length))
        if error:
            self.send_json(400, {"error": error})
            return
        with STATE.lock:
            status = STATE.status
        if status != "ready":
            self.send_json(503, {"error": f"model is {status}"})
            return
        job = {"id": uuid.uuid4().hex, "status": "queued", "prompt": prompt, "parameters": params}
        with STATE.lock:
            STATE.jobs[job["id"]] = job
        save_job(job)
        STATE.queue.put(job["id"])
        self.send_json(202, {"id": job["id"], "status": "queued"})

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


def main():
    os.makedirs(OUTPUT_DIR, exist_ok=True)
    threading.Thread(target=load_model, name="load", daemon=True).start()
    threading.Thread(target=work, name="work", daemon=True).start()
    server = ThreadingHTTPServer((HOST, PORT), Handler)
    print(f"{backend.MODEL_NAME} server on {HOST}:{PORT}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
