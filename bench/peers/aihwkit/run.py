#!/usr/bin/env python3
"""Rebuilds an imcnas aihwkit export (`imcnas export <run> <design> --to aihwkit`) as an aihwkit analog
model, programs it, lets it drift and tests it (docs/aihwkit-export.md). A peer of bench/aihwkit.ts, not
part of imcnas.

    run.py <exportDir> --images x.bin --labels y.bin [--count N] [--seeds 0,1,2] [--drift 1,3600]
           [--perfect | --ideal] [--out result.json]

x.bin: float32 images, NHWC as imcnas stores them (pixels in [0, 1]); y.bin: int32 labels. Without
--drift the export's drift times are used. --perfect runs the tiles' forward pass exactly (aihwkit
IOParameters.is_perfect) so that only the conductance noise model acts: the device-level cross-check.

The network is the export's model.onnx, walked node by node: each layer's Clip becomes imcnas's input
quantizer (round to the layer's grid, in levels), each Conv / Gemm an AnalogConv2d / AnalogLinear holding
the integer weight levels / maxLevel, its output rescaled digitally by maxLevel · inputStep · weightScale
and the bias added (aihwkit.json `layers`).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

import aihwkit
from aihwkit.inference import PCMLikeNoiseModel, ReRamWan2022NoiseModel, StateIndependentNoiseModel
from aihwkit.inference.compensation.drift import GlobalDriftCompensation
from aihwkit.inference.converter.conductance import SinglePairConductanceConverter
from aihwkit.inference.utils import drift_analog_weights, program_analog_weights
from aihwkit.nn import AnalogConv2d, AnalogLinear
from aihwkit.simulator.configs import InferenceRPUConfig
from aihwkit.simulator.parameters.enums import BoundManagementType, NoiseManagementType, WeightNoiseType


def rpu_config_from(spec, perfect):
    """The InferenceRPUConfig that aihwkit.json's rpuConfig describes."""
    config = InferenceRPUConfig()
    model = spec["noise_model"]
    converter = SinglePairConductanceConverter(
        g_max=model["g_converter"]["g_max"], g_min=model["g_converter"]["g_min"]
    )
    kwargs = dict(model["kwargs"])
    if model["class"] == "PCMLikeNoiseModel":
        config.noise_model = PCMLikeNoiseModel(g_converter=converter, **kwargs)
    elif model["class"] == "ReRamWan2022NoiseModel":
        config.noise_model = ReRamWan2022NoiseModel(g_converter=converter, **kwargs)
    else:
        coeff0 = kwargs.pop("prog_coeff_0")
        config.noise_model = StateIndependentNoiseModel(
            g_converter=converter, prog_coeff=[coeff0, 0.0, 0.0], **kwargs
        )
    config.drift_compensation = GlobalDriftCompensation() if spec["drift_compensation"] else None
    forward = spec["forward"]
    config.forward.is_perfect = bool(perfect or forward["is_perfect"])
    config.forward.inp_res = forward["inp_res"]
    config.forward.inp_bound = forward["inp_bound"]
    config.forward.out_res = forward["out_res"]
    config.forward.out_bound = forward["out_bound"]
    config.forward.out_noise = forward["out_noise"]
    config.forward.w_noise = forward["w_noise"]
    config.forward.w_noise_type = getattr(WeightNoiseType, forward["w_noise_type"])
    config.forward.noise_management = getattr(NoiseManagementType, forward["noise_management"])
    config.forward.bound_management = getattr(BoundManagementType, forward["bound_management"])
    config.mapping.digital_bias = spec["mapping"]["digital_bias"]
    config.mapping.max_input_size = spec["mapping"]["max_input_size"]
    config.mapping.max_output_size = spec["mapping"]["max_output_size"]
    return config


class ExportedNetwork(torch.nn.Module):
    """model.onnx with every weight layer on aihwkit tiles."""

    def __init__(self, export_dir, config, rpu_config):
        super().__init__()
        graph = onnx.load(os.path.join(export_dir, config["model"])).graph
        self.weights = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        self.nodes = list(graph.node)
        self.input_name = graph.input[0].name
        self.output_name = graph.output[0].name
        self.layer_of = {layer["name"]: layer for layer in config["layers"]}
        self.analog = torch.nn.ModuleDict()
        self.scales = {}
        for node in self.nodes:
            if node.op_type in ("Conv", "Gemm"):
                self._analog_layer(node, rpu_config)

    def _analog_layer(self, node, rpu_config):
        layer = self.layer_of[node.name]
        weight = self.weights[node.input[1]]
        bias = torch.tensor(self.weights[node.input[2]], dtype=torch.float32)
        scale = np.asarray(layer["weightScale"], dtype=np.float64)
        max_level = layer["maxLevel"]
        if node.op_type == "Gemm":
            levels = np.rint(weight.T / scale[:, None])  # ONNX Gemm B is [in, out]
            module = AnalogLinear(levels.shape[1], levels.shape[0], bias=False, rpu_config=rpu_config)
        else:
            attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            levels = np.rint(weight / scale[:, None, None, None])
            group = attributes.get("group", 1)
            if group > 1:
                # AnalogConv2d takes groups = 1 only: a depthwise kernel becomes a dense one, zero off the diagonal
                channels = levels.shape[0]
                dense = np.zeros((channels, channels) + levels.shape[2:])
                for c in range(channels):
                    dense[c, c] = levels[c, 0]
                levels = dense
            module = AnalogConv2d(
                levels.shape[1],
                levels.shape[0],
                kernel_size=tuple(attributes["kernel_shape"]),
                stride=tuple(attributes["strides"]),
                padding=0,
                bias=False,
                rpu_config=rpu_config,
            )
            top, left, bottom, right = attributes["pads"]
            self.scales[node.name + ".pads"] = (left, right, top, bottom)
        if np.abs(levels).max() > max_level:
            raise ValueError(f"{node.name}: weight levels exceed ±{max_level}: aihwkit.json does not match model.onnx")
        module.set_weights(torch.tensor(levels / max_level, dtype=torch.float32))
        factor = torch.tensor(scale * max_level * layer["inputStep"], dtype=torch.float32)
        shape = (1, -1) if node.op_type == "Gemm" else (1, -1, 1, 1)
        self.scales[node.name] = (factor.view(shape), bias.view(shape))
        self.analog[node.name.replace(".", "_")] = module

    def forward(self, images):
        values = {self.input_name: images}
        for node in self.nodes:
            x = values[node.input[0]]
            if node.op_type == "Clip":
                layer = self.layer_of[node.name[: -len(".input_clip")]]
                bounds = layer["inputLevels"]
                # imcnas's input quantizer (models/quantization.ts quantizeToGrid), kept in levels
                y = torch.clamp(torch.round(x / layer["inputStep"]), bounds["lowest"], bounds["highest"])
            elif node.op_type in ("Conv", "Gemm"):
                if node.op_type == "Conv":
                    x = F.pad(x, self.scales[node.name + ".pads"])
                factor, bias = self.scales[node.name]
                y = self.analog[node.name.replace(".", "_")](x) * factor + bias
            elif node.op_type == "Relu":
                y = torch.relu(x)
            elif node.op_type == "Add":
                y = x + values[node.input[1]]
            elif node.op_type == "GlobalAveragePool":
                y = x.mean(dim=(2, 3), keepdim=True)
            elif node.op_type == "Flatten":
                y = torch.flatten(x, 1)
            else:
                raise ValueError(f"node {node.name}: operator {node.op_type} is not one imcnas exports")
            values[node.output[0]] = y
        return values[self.output_name]


def accuracy(model, images, labels, batch):
    correct = 0
    with torch.no_grad():
        for start in range(0, len(labels), batch):
            logits = model(images[start : start + batch])
            correct += int((logits.argmax(1) == labels[start : start + batch]).sum())
    return correct / len(labels)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("export_dir")
    parser.add_argument("--images", required=True)
    parser.add_argument("--labels", required=True)
    parser.add_argument("--count", type=int, default=0, help="images to test (default: all in the file)")
    parser.add_argument("--seeds", default="0", help="comma-separated chip seeds (torch.manual_seed)")
    parser.add_argument("--drift", default="", help="comma-separated seconds (default: the export's)")
    parser.add_argument("--perfect", action="store_true", help="exact forward pass: conductance noise only")
    parser.add_argument("--ideal", action="store_true", help="no programming or drift, exact forward: the export's own check")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with open(os.path.join(args.export_dir, "aihwkit.json"), encoding="utf8") as handle:
        config = json.load(handle)
    c, h, w = config["inputShape"]
    pixels = np.fromfile(args.images, dtype=np.float32)
    labels = np.fromfile(args.labels, dtype=np.int32)
    count = args.count or len(labels)
    if pixels.size < count * h * w * c or labels.size < count:
        sys.exit(f"--images/--labels: {labels.size} labels and {pixels.size // (h * w * c)} images, {count} asked")
    images = torch.tensor(pixels[: count * h * w * c].reshape(count, h, w, c).transpose(0, 3, 1, 2).copy())
    targets = torch.tensor(labels[:count].astype(np.int64))
    drift = [float(t) for t in args.drift.split(",")] if args.drift else config["driftSeconds"]
    seeds = [int(s) for s in args.seeds.split(",")]

    model = ExportedNetwork(args.export_dir, config, rpu_config_from(config["rpuConfig"], args.perfect or args.ideal))
    model.eval()
    started = time.time()
    results = []
    if args.ideal:
        # the tiles hold the exact levels: must reproduce imcnas's digital accuracy
        results.append({"seed": None, "drift_seconds": None, "accuracy": accuracy(model, images, targets, args.batch)})
        seeds = []
    for seed in seeds:
        torch.manual_seed(seed)
        # one chip per seed, programmed once and aged through every drift time (as imcnas ages its chips)
        program_analog_weights(model, None)
        for t in drift:
            drift_analog_weights(model, t)
            results.append({"seed": seed, "drift_seconds": t, "accuracy": accuracy(model, images, targets, args.batch)})
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    report = {
        "aihwkit": aihwkit.__version__,
        "torch": torch.__version__,
        "images": count,
        "seeds": seeds,
        "perfect_forward": bool(args.perfect or args.ideal),
        "ideal": bool(args.ideal),
        "results": results,
        "seconds": time.time() - started,
    }
    text = json.dumps(report)
    if args.out:
        with open(args.out, "w", encoding="utf8") as handle:
            handle.write(text)
    print(text)


if __name__ == "__main__":
    main()
