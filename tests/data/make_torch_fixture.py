#!/usr/bin/env python3
"""Writes torch_mixed.pt, the torch.save fixture of tests/unit/test_torchzip.c.

Run with a CPU torch (made with torch 1.13): /usr/bin/python3 make_torch_fixture.py
Every tensor's values follow a formula of its row-major logical index i, which the C
test recomputes, so nothing in the test is pasted from this file. It covers a real
module state dict (OrderedDict with _metadata, hence BUILD), every storage dtype pflow
reads, views saved with their storage (transpose, slice with offset, expand with stride
0), a Parameter (_rebuild_parameter), a 0-dim, an empty and a 6-dim tensor.
"""
import collections
import torch


class Lin(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)
        self.register_buffer("buf", torch.arange(3, dtype=torch.float64) * 1.5)  # i * 1.5


m = Lin()
with torch.no_grad():
    m.lin.weight.copy_(torch.arange(6.0).reshape(2, 3) * 0.25 - 0.5)  # i * 0.25 - 0.5
    m.lin.bias.copy_(torch.arange(2.0) * -3.5 + 1.5)  # 1.5 - 3.5 i
sd = m.state_dict()  # lin.weight, lin.bias, buf; carries _metadata

base = torch.arange(10.0)  # i
sd["half"] = torch.arange(4.0).half() - 1.5  # i - 1.5
sd["bf"] = (torch.arange(4.0).reshape(2, 2) * 2 - 3).bfloat16()  # 2 i - 3
sd["f64"] = torch.arange(3, dtype=torch.float64) / 8  # i / 8
sd["long"] = torch.arange(3, dtype=torch.int64) * 1000000000000 - 5  # 1e12 i - 5
sd["int"] = torch.arange(2, dtype=torch.int32) * 9 - 7  # 9 i - 7
sd["byte"] = (torch.arange(5) * 50).to(torch.uint8)  # 50 i
sd["mask"] = torch.arange(4) % 2 == 0  # i even
sd["base"] = base
sd["slice"] = base[4:6]  # 4 + i, storage offset 4, shares base's storage
sd["transposed"] = torch.arange(6.0).reshape(2, 3).t()  # [3, 2]: (r, c) -> 3 c + r
sd["expanded"] = torch.arange(4.0).expand(3, 4)  # (r, c) -> c, stride (0, 1)
sd["param"] = torch.nn.Parameter(torch.full((2,), 0.75))  # 0.75
sd["scalar"] = torch.tensor(3.25)
sd["empty"] = torch.zeros(0, 3)
sd["six"] = torch.arange(64.0).reshape(2, 2, 2, 2, 2, 2)  # i

torch.save(sd, "torch_mixed.pt")
