#!/usr/bin/env python3
"""Writes torchvision state_dicts, an input and torchvision's output for MaskLab's weight-loading check.

Random weights with a fixed seed (nothing is downloaded). BatchNorm affine parameters and running statistics are
randomised too, so a load that skipped or mislaid them changes the output. Each model is written twice, as
torch.save (.pth) and as .safetensors (written here: Debian has no safetensors package), with the input and
output in <name>.io.pt.
"""
import argparse
import json
import struct

import torch
import torchvision

MODELS = {
    "resnet18": lambda: torchvision.models.resnet18(weights=None),
    "vgg11": lambda: torchvision.models.vgg11(weights=None),
    "googlenet": lambda: torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True),
    "efficientnet_b0": lambda: torchvision.models.efficientnet_b0(weights=None),
}

SAFETENSORS_DTYPES = {torch.float32: "F32", torch.int64: "I64", torch.float16: "F16"}


def save_safetensors(state_dict, path):
    header, blobs, offset = {}, [], 0
    for key, tensor in state_dict.items():
        data = tensor.detach().contiguous().cpu().numpy().tobytes()
        header[key] = {"dtype": SAFETENSORS_DTYPES[tensor.dtype], "shape": list(tensor.shape),
                       "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(2)
    for i, (name, make) in enumerate(MODELS.items()):
        torch.manual_seed(1000 + i)
        model = make()
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.normal_(0.0, 0.1)
                    m.running_mean.normal_(0.0, 0.1)
                    m.running_var.uniform_(0.5, 1.5)
        model.eval()
        x = torch.randn(args.batch, 3, args.size, args.size)
        with torch.no_grad():
            y = model(x)
        sd = model.state_dict()
        torch.save(sd, f"{args.out}/{name}.pth")
        save_safetensors(sd, f"{args.out}/{name}.safetensors")
        torch.save({"input": x, "output": y}, f"{args.out}/{name}.io.pt")
        print(f"{name}: {len(sd)} tensors, output {tuple(y.shape)}")
    with open(f"{args.out}/versions.json", "w") as f:
        json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__}, f)


if __name__ == "__main__":
    main()
