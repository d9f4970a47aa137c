/*
 * CausalVaeEncoder (modeling_enc_dec.py) for one chunk of one tile, followed by
 * quant_conv as CausalVideoVAE.encode / chunk_encode do:
 *
 *   x [1, 3, T, H, W] -> conv_in [1, C0, ...] -> down_blocks.0..3 (resnets, then
 *   a (1,2,2)-strided conv and a (2,1,1)-strided conv where configured)
 *   -> mid_block -> conv_norm_out + SiLU -> conv_out [1, 2L, ...]
 *   -> quant_conv (1x1x1): the moments (mean = channels 0..L-1, logvar = L..2L-1)
 */
#include "vae_internal.h"

/* (n + 2 - 3) / 2 + 1 for a kernel-3 conv with 2 front frames (whole clip / first chunk);
 * a later chunk has 1 cached frame in front: (n + 1 - 3) / 2 + 1. */
int64_t vae_encoder_frames(const pf_vae *vae, int64_t t, vae_tmode mode) {
    int64_t pad = mode == VAE_T_NEXT ? 1 : 2;
    for (int i = 0; i < VAE_BLOCKS; i++)
        if (vae->cfg.enc_temporal_down[i]) t = t + pad - 3 < 0 ? 0 : (t + pad - 3) / 2 + 1;
    return t;
}

/* kernel 3, padding 1, stride 2: (n + 2 - 3) / 2 + 1 */
int64_t vae_encoder_size(const pf_vae *vae, int64_t n) {
    for (int i = 0; i < VAE_BLOCKS; i++)
        if (vae->cfg.enc_spatial_down[i]) n = (n - 1) / 2 + 1;
    return n;
}

pf_tensor *vae_encoder_fwd(vae_build *B, pf_tensor *x) {
    const vae_encoder *e = &B->vae->enc;
    x = vae_conv_fwd(B, &e->conv_in, x);
    for (int i = 0; i < VAE_BLOCKS; i++) x = vae_down_block_fwd(B, &e->down[i], x);
    x = vae_mid_fwd(B, &e->mid, x);
    x = vae_norm_fwd(B, &e->conv_norm_out, x, true);
    x = vae_conv_fwd(B, &e->conv_out, x);
    return vae_conv_fwd(B, &B->vae->quant_conv, x);
}
