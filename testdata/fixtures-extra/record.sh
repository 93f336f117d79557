#!/bin/bash
# Records the extra fixtures (testdata/fixtures-extra). Needs /tmp/qs-official (see /work/shared/peer/README.md).
set -e
OUT=${OUT:-$(cd "$(dirname "$0")" && pwd)}
cd /work/shared/peer
export QS_OFFICIAL=/tmp/qs-official
C="--ngf 4 --ndf 4 --nc 32 --patches 32 --perturb 0.02"
rec() { name=$1; shift; echo "== $name: make_fixtures.py $name.safetensors $*"; /usr/bin/python3 make_fixtures.py $OUT/$name.safetensors "$@" 2>&1 | grep -v Warning | tail -1; }
if [ -n "$1" ]; then eval "$@"; exit; fi
rec global_b2_noidt_32                         --mode global --size 32 --batch 2 $C -- --nce_idt False
rec local_32x48_noaaup_nlayers2_nonsat         --mode local --size 32 --width 48 $C -- --no_antialias_up --netD n_layers --n_layers_D 2 --gan_mode nonsaturating
rec local_global_resnet6_vanilla_lambdas_T_32  --mode local_global --size 32 $C -- --netG resnet_6blocks --gan_mode vanilla --lambda_GAN 0.5 --lambda_NCE 2 --nce_T 0.1
rec global_p80_layers4_32                      --mode global --size 32 --ngf 4 --ndf 4 --nc 16 --patches 80 --perturb 0.02 -- --nce_layers 0,4,8,12
rec randomonly_layers3_noidt_32                --mode global --size 32 $C -- --nce_layers 0,4,8 --nce_idt False --lambda_NCE 10
rec global_taps_3_5_7_9_32                     --mode global --size 32 $C -- --nce_layers 0,3,5,7,9
rec global_noaa_32                             --mode global --size 32 $C -- --no_antialias
# Batch 2 in every QS mode and batch 3 (issue 7): ngf 8, 40-48 px.
B="--ngf 8 --ndf 8 --nc 32 --perturb 0.02"
rec global_b2_48_underflow_p16                 --mode global --size 48 --batch 2 --patches 16 $B
rec local_b2_48_p32                            --mode local --size 48 --batch 2 --patches 32 $B
rec local_global_b2_48_noidt_vanilla           --mode local_global --size 48 --batch 2 --patches 32 $B -- --nce_idt False --gan_mode vanilla
rec global_b3_40_p24                           --mode global --size 40 --batch 3 --patches 24 $B --seed 3
# float64 replays (float64/NAME.safetensors) of the recordings with gradients that are float32 noise in the recording itself
for name in global_b2_noidt_32 randomonly_layers3_noidt_32 local_32x48_noaaup_nlayers2_nonsat global_noaa_32 local_b2_48_p32 global_b3_40_p24; do
  echo "== float64/$name"; mkdir -p $OUT/float64
  /usr/bin/python3 $OUT/replay_float64.py $OUT/$name.safetensors --out $OUT/float64/$name.safetensors 2>&1 | grep -v Warning | tail -1
done
