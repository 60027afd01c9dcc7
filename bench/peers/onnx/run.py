#!/usr/bin/env python3
"""Checks and runs imcnas's ONNX exports with the reference tools (bench/onnx.ts).

Reads a JSON job from stdin: {"models": [{"file", "images", "n", "h", "w", "c"}]}; for each model runs
onnx.checker (full check, with shape inference) and onnxruntime on the NCHW images (the raw float32 file
holds NHWC, as imcnas stores images) and writes the logits next to the model as <model>.logits.
Prints one JSON line per model: the versions and the output file.
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort

job = json.load(sys.stdin)
for entry in job["models"]:
    model = onnx.load(entry["file"])
    onnx.checker.check_model(model, full_check=True)
    n, h, w, c = entry["n"], entry["h"], entry["w"], entry["c"]
    images = np.fromfile(entry["images"], dtype=np.float32).reshape(n, h, w, c).transpose(0, 3, 1, 2).copy()
    session = ort.InferenceSession(entry["file"], providers=["CPUExecutionProvider"])
    logits = session.run(None, {session.get_inputs()[0].name: images})[0].astype(np.float32)
    out = entry["file"] + ".logits"
    logits.tofile(out)
    print(json.dumps({"file": entry["file"], "logits": out, "onnx": onnx.__version__, "onnxruntime": ort.__version__}))
