#!/usr/bin/env python3
"""Rewrites a kernels/*.cu file into C++ the host emulation compiles (tests/cuda_emu):
dynamic shared memory becomes the emulated block's buffer and every
`kernel<<<grid, block, smem, stream>>>(args);` becomes `emu_launch(grid, block, smem, stream, kernel, args);`
(the arguments are evaluated and copied at the launch, as CUDA does)."""
import re
import sys

src, dst = sys.argv[1], sys.argv[2]
s = open(src).read()
s = re.sub(r'extern __shared__ float (\w+)\[\];', r'float *\1 = (float *)emu_dyn_smem();', s)
s = re.sub(r'(\w+(?:<[\w ,]+>)?)<<<(.*?)>>>\((.*?)\);', lambda m: 'emu_launch(%s, %s, %s);' % (m.group(2), m.group(1), m.group(3)), s,
           flags=re.S)
if '<<<' in s or 'extern __shared__' in s:
    sys.exit('gen.py: %s has a construct the emulation does not rewrite' % src)
open(dst, 'w').write('#include "emu_device.h"\n#line 1 "%s"\n' % src + s)
