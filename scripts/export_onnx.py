"""Exports the models of the inference benchmarks (bench/infer.sh, bench/embed.sh) for ONNX Runtime.

usage: export_onnx.py --model DIR --out OUT       a Hugging Face BERT folder
       export_onnx.py --random-base --out OUT     bert-base sizes, random weights (seed 1), also
                                                  saved as a Hugging Face folder in OUT, so that
                                                  liblm, PyTorch and ONNX Runtime load the same
                                                  weights from the same kind of file
Writes OUT/model.onnx (float32, transformers' BertModel traced with dynamic batch and sequence
axes; inputs input_ids, attention_mask, token_type_ids; output last_hidden_state) and
OUT/model.int8.onnx (onnxruntime.quantization.quantize_dynamic: int8 weights, uint8 activations
quantised at run time, as a user of ONNX Runtime's dynamic quantisation gets it). Does nothing
when both exist and are newer than this script."""
import argparse
import os
import sys

import torch
from transformers import BertConfig, BertModel


class Wrapper(torch.nn.Module):
    """last_hidden_state only (the benchmarks read nothing else)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.model(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--random-base", action="store_true")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    fp32 = os.path.join(a.out, "model.onnx")
    int8 = os.path.join(a.out, "model.int8.onnx")
    me = os.path.getmtime(__file__)
    if all(os.path.exists(p) and os.path.getmtime(p) > me for p in (fp32, int8)):
        return
    os.makedirs(a.out, exist_ok=True)
    if a.random_base:
        torch.manual_seed(1)
        model = BertModel(BertConfig(), add_pooling_layer=True)  # bert-base sizes
        model.save_pretrained(a.out, safe_serialization=True)
    elif a.model:
        model = BertModel.from_pretrained(a.model)
    else:
        sys.exit("export_onnx.py: --model DIR or --random-base")
    model.eval()
    ids = torch.randint(1000, 2000, (2, 16))
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)
    axes = {0: "batch", 1: "seq"}
    with torch.no_grad():
        torch.onnx.export(Wrapper(model), (ids, mask, types), fp32,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes,
                                        "token_type_ids": axes, "last_hidden_state": axes},
                          opset_version=17, dynamo=False)
    from onnxruntime.quantization import QuantType, quantize_dynamic
    quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8)
    print(f"export_onnx.py: wrote {fp32} and {int8}", file=sys.stderr)


if __name__ == "__main__":
    main()
