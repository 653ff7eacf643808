"""Random masking, patchify and the masked reconstruction loss."""

import torch

from vis.core.models import (
    gather_tokens,
    masked_mse,
    normalize_patches,
    num_kept,
    patchify,
    per_sample_noise,
    random_masking,
    unpatchify,
)


def test_keep_count_matches_mae():
    assert num_kept(196, 0.75) == 49 and num_kept(256, 0.75) == 64


def test_masking_keeps_the_lowest_noise_and_restore_inverts():
    noise = torch.rand(5, 196)
    m = random_masking(noise, 0.75)
    assert m.ids_keep.shape == (5, 49)
    assert torch.all(m.mask.sum(1) == 147)
    # kept = the 49 smallest noise values, and they are exactly the mask == 0 positions
    smallest = noise.argsort(1)[:, :49].sort(1).values
    assert torch.equal(m.ids_keep.sort(1).values, smallest)
    assert torch.all(m.mask.gather(1, m.ids_keep) == 0)
    # ids_restore undoes the shuffle
    x = torch.randn(5, 196, 8)
    shuffled = gather_tokens(x, noise.argsort(1))
    torch.testing.assert_close(gather_tokens(shuffled, m.ids_restore), x)


def test_masks_are_independent_per_sample_and_depend_only_on_the_seed():
    seeds = torch.tensor([7, 8, 7])
    noise = per_sample_noise(seeds, 64)
    assert torch.equal(noise[0], noise[2]) and not torch.equal(noise[0], noise[1])
    alone = per_sample_noise(torch.tensor([8]), 64)
    assert torch.equal(alone[0], noise[1])  # batch composition does not matter


def test_patchify_order_and_inverse():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    p = patchify(x, 4)
    assert p.shape == (2, 4, 48)
    # token 1 is row 0, col 1; value order inside a patch is (pixel row, pixel col, channel)
    assert p[0, 1, 0] == x[0, 0, 0, 4] and p[0, 1, 1] == x[0, 1, 0, 4] and p[0, 1, 3] == x[0, 0, 0, 5]
    assert p[0, 2, 0] == x[0, 0, 4, 0]
    torch.testing.assert_close(unpatchify(p, 4, (1, 2, 2)), x)


def test_video_patchify_inverse():
    x = torch.randn(2, 3, 4, 8, 8)
    p = patchify(x, 4, t=2)
    assert p.shape == (2, 2 * 2 * 2, 2 * 4 * 4 * 3)
    torch.testing.assert_close(unpatchify(p, 4, (2, 2, 2), t=2), x)


def test_norm_pix_statistics_per_patch_with_unbiased_variance():
    target = torch.randn(3, 10, 48) * 5 + 2
    n = normalize_patches(target)
    torch.testing.assert_close(n.mean(-1), torch.zeros(3, 10), atol=1e-5, rtol=0)
    # unbiased variance: the normalised patch has unbiased variance var/(var+eps) ~ 1
    torch.testing.assert_close(n.var(-1), torch.ones(3, 10), atol=1e-4, rtol=0)
    manual = (target - target.mean(-1, keepdim=True)) / (target.var(-1, unbiased=True, keepdim=True) + 1e-6).sqrt()
    torch.testing.assert_close(n, manual)


def test_loss_ignores_visible_patches_of_the_target():
    torch.manual_seed(0)
    pred, target = torch.randn(2, 16, 12), torch.randn(2, 16, 12)
    mask = random_masking(torch.rand(2, 16), 0.75).mask
    changed = target + (1 - mask).unsqueeze(-1) * 100.0  # only visible patches change
    for norm_pix in (False, True):
        a = masked_mse(pred, target, mask, norm_pix)
        b = masked_mse(pred, changed, mask, norm_pix)
        torch.testing.assert_close(a, b)
        c = masked_mse(pred, target + mask.unsqueeze(-1), mask, norm_pix=False)
        assert not torch.allclose(a, c) or norm_pix  # removed patches do count
