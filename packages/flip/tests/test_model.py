"""The FLIP model: the paper's tower sizes (parameter counts of the reference), the configured mask ratio is
the one applied (kept-token count, cls always kept), evaluation encodes whole images whatever the ratio, the
symmetric InfoNCE and its temperature, and the text tower's causal / padding switches."""

import math

import pytest
import torch

from vis.core.losses import clip_loss
from vis.core.models.text import TextTransformer
from vis.flip.cli import pretrain
from vis.flip.model import ImageTower
from vis.flip.pretrain import build_model
from vis.flip.recipes import SIZES

SMALL = ["--embed-dim", "32", "--depth", "1", "--num-heads", "2", "--text-width", "32", "--text-depth", "1",
         "--text-heads", "2", "--proj-dim", "16", "--tokenizer", "words", "--vocab-size", "64"]


def trainable(m: torch.nn.Module) -> float:
    return sum(p.numel() for p in m.parameters() if p.requires_grad) / 1e6


@pytest.mark.parametrize("size,vision,text", [("b16", 86.04, 53.74), ("l16", 303.89, 109.11),
                                              ("h14", 631.75, 334.65)])
def test_tower_parameter_counts_match_the_reference(size, vision, text):
    """Reference section 5 (computed): vision trunk + projection without the fixed sin-cos table; text tower
    with projection for the paper's WordPiece vocabulary (30523) and 32 tokens."""
    vit, t, dim = SIZES[size]
    with torch.device("meta"):
        image = ImageTower(224, vit.patch_size, vit.embed_dim, vit.depth, vit.num_heads, dim)
        txt = TextTransformer(30523, 32, t.text_width, t.text_depth, t.text_heads, dim)
    assert abs(trainable(image) - vision) < 0.006 and abs(trainable(txt) - text) < 0.006
    grid = 224 // vit.patch_size
    assert not image.trunk.pos_embed.requires_grad and image.trunk.pos_embed.shape[1] == grid**2 + 1


@pytest.mark.parametrize("ratio,kept", [(0.0, 64), (0.5, 32), (0.75, 16)])
def test_the_configured_mask_ratio_is_the_one_applied(ratio, kept):
    model = build_model(pretrain.parse([*SMALL, "--mask-ratio", str(ratio)]))
    seen = []
    model.visual.trunk.blocks[0].register_forward_hook(lambda m, args, out: seen.append(args[0].shape[1]))
    x, t = torch.randn(4, 3, 32, 32), torch.randint(1, 64, (4, 32))
    model.train()(x, t, torch.arange(4))
    model.eval()(x, t, torch.arange(4))
    assert seen == [kept + 1, 64 + 1]  # int(64 (1 - r)) patches + cls in training; every patch at evaluation


def test_evaluation_encodes_whole_images_whatever_the_ratio():
    torch.manual_seed(0)
    masked = build_model(pretrain.parse([*SMALL, "--mask-ratio", "0.75"]))
    unmasked = build_model(pretrain.parse([*SMALL, "--mask-ratio", "0"]))
    unmasked.load_state_dict(masked.state_dict())
    x, t = torch.randn(8, 3, 32, 32), torch.randint(1, 64, (8, 32))
    masked.eval()
    a, b = masked(x, t, torch.arange(8))["loss"], masked(x, t, torch.arange(8, 16))["loss"]
    ref = unmasked.train()(x, t, torch.arange(8))["loss"]  # ratio 0 in training is also the identity
    assert torch.equal(a, b) and torch.equal(a, ref)
    masked.train()
    m1, m2 = masked(x, t, torch.arange(8))["loss"], masked(x, t, torch.arange(8, 16))["loss"]
    assert not torch.equal(m1, a) and not torch.equal(m1, m2)  # the masks depend on the per-sample seeds
    assert torch.equal(m1, masked(x, t, torch.arange(8))["loss"])


def test_symmetric_infonce_with_the_temperature():
    torch.manual_seed(0)
    img, txt = torch.randn(16, 8), torch.randn(16, 8)
    scale = torch.tensor(1 / 0.07)
    i, t = torch.nn.functional.normalize(img, dim=1), torch.nn.functional.normalize(txt, dim=1)
    logits = scale * i @ t.T
    labels = torch.arange(16)
    ce = torch.nn.functional.cross_entropy
    manual = (ce(logits, labels) + ce(logits.T, labels)) / 2
    for mode in ("local", "naive", "gather_grad"):
        torch.testing.assert_close(clip_loss(img, txt, scale, mode), manual)
    torch.testing.assert_close(clip_loss(txt, img, scale), manual)  # symmetric in the two modalities
    # at scale 1 the logits lie in [-1, 1]: the loss is within 1 of ln N for random features
    assert abs(clip_loss(img, txt, torch.tensor(1.0)).item() - math.log(16)) < 1.0


def test_logit_scale_starts_at_1_over_0_07_and_is_clamped_at_100():
    model = build_model(pretrain.parse(SMALL))
    assert model.logit_scale.exp().item() == pytest.approx(1 / 0.07)
    with torch.no_grad():
        model.logit_scale.fill_(10.0)
    model.clamp_logit_scale_()
    assert model.logit_scale.exp().item() == pytest.approx(100.0)


def test_text_tower_causal_and_padding_switches():
    torch.manual_seed(0)
    tokens = torch.tensor([[1, 5, 6, 7, 0, 0, 0, 0]])
    later = tokens.clone()
    later[0, 3] = 9
    for causal, changes in ((False, True), (True, False)):
        tower = TextTransformer(16, 8, 32, 2, 2, 16, causal=causal).eval()
        first = tower.forward_features(tokens)[:, 0]
        assert (not torch.allclose(first, tower.forward_features(later)[:, 0])) == changes
    for pad_mask, changes in ((False, True), (True, False)):
        tower = TextTransformer(16, 8, 32, 2, 2, 16, pad_mask=pad_mask).eval()
        before = tower(tokens)
        with torch.no_grad():
            tower.token_embed.weight[0] += 1.0  # the padding embedding
        assert (not torch.allclose(before, tower(tokens))) == changes


def test_multiply_adds_match_the_reference():
    """Reference section 5 (computed): ViT-L/16 image tower 61.55 / 30.53 / 15.38 G multiply-adds at mask
    0 / 0.5 / 0.75, text tower 2.74 G for 32 tokens; image + text at 50% / 75% = 0.517 / 0.282 of unmasked
    (within 2%). Counted on the meta device."""
    from vis.core.flops import meta_macs

    vit, t, dim = SIZES["l16"]
    counts = {}
    for ratio in (0.0, 0.5, 0.75):
        keep = int(196 * (1 - ratio))
        ids = (lambda d, k=keep: torch.zeros(1, k, dtype=torch.long, device=d)) if ratio else (lambda d: None)
        counts[ratio] = meta_macs(lambda: ImageTower(224, vit.patch_size, vit.embed_dim, vit.depth, vit.num_heads,
                                                     dim), (1, 3, 224, 224), call=lambda m, x: m(x, ids(x.device)))
    text = meta_macs(lambda: TextTransformer(49408, 32, t.text_width, t.text_depth, t.text_heads, dim), (1, 32),
                     call=lambda m, x: m(x.long()))
    for ratio, ref in ((0.0, 61.55e9), (0.5, 30.53e9), (0.75, 15.38e9)):
        assert counts[ratio] == pytest.approx(ref, rel=0.02)
    assert text == pytest.approx(2.74e9, rel=0.02)
    total = {r: c + text for r, c in counts.items()}
    assert total[0.5] / total[0.0] == pytest.approx(0.517, rel=0.02)
    assert total[0.75] / total[0.0] == pytest.approx(0.282, rel=0.02)
