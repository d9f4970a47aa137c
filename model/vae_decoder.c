/*
 * CausalVaeDecoder (modeling_enc_dec.py) for one chunk of one tile, preceded by
 * post_quant_conv as CausalVideoVAE.decode / chunk_decode do:
 *
 *   z [1, L, t, h, w] -> post_quant_conv (1x1x1) -> conv_in [1, C3, t, h, w]
 *   -> mid_block -> up_blocks.0..3 (each spatial up doubles h, w; each temporal
 *   up doubles t, minus the dropped frame 0 on a first chunk)
 *   -> conv_norm_out + SiLU -> conv_out [1, 3, t', 8h, 8w]
 */
#include "vae_internal.h"

int64_t vae_decoder_frames(const pf_vae *vae, int64_t t, vae_tmode mode) {
    for (int i = 0; i < VAE_BLOCKS; i++)
        if (vae->cfg.dec_temporal_up[i]) t = 2 * t - (mode == VAE_T_NEXT ? 0 : 1);
    return t;
}

pf_tensor *vae_decoder_fwd(vae_build *B, pf_tensor *z) {
    const vae_decoder *d = &B->vae->dec;
    pf_tensor *x = vae_conv_fwd(B, &B->vae->post_quant_conv, z);
    x = vae_conv_fwd(B, &d->conv_in, x);
    x = vae_mid_fwd(B, &d->mid, x);
    for (int i = 0; i < VAE_BLOCKS; i++) x = vae_up_block_fwd(B, &d->up[i], x);
    x = vae_norm_fwd(B, &d->conv_norm_out, x, true);
    return vae_conv_fwd(B, &d->conv_out, x);
}
