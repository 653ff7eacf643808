"""An open_clip CLIP checkpoint (ViT-B/16, its own key layout) converts into the vis-flip model key by key:
image and text embeddings equal open_clip's own on the same random weights and inputs, within 2e-5
(float32; the two attention implementations sum in another order), and a file of another kind, or with a
missing or an extra key, is refused with one line."""

import pytest
import torch

from vis.core.errors import UserError
from vis.flip.convert import load_model
from vis.flip.tokenizer import ClipBpe

open_clip = pytest.importorskip("open_clip")
ATOL = 2e-5


@pytest.fixture(scope="module")
def open_clip_b16(tmp_path_factory):
    torch.manual_seed(0)
    model = open_clip.create_model("ViT-B-16", pretrained=None).eval()
    with torch.no_grad():  # every tensor away from its initial value, LayerNorms and biases included
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    path = tmp_path_factory.mktemp("open_clip") / "open_clip_vit_b16.pt"
    torch.save(model.state_dict(), path)
    return model, path


def test_converted_model_gives_open_clips_embeddings(open_clip_b16):
    reference, path = open_clip_b16
    model, feed = load_model(str(path))
    model.eval()
    assert feed == {"tokenizer": "clip_bpe", "context_length": 77, "vocab_size": 49408, "input_size": 224,
                    "normalize": "clip"}
    texts = ["a photo of a cat.", "a diagram of a transformer with many layers", ""]
    tokens = ClipBpe(77)(texts)
    assert torch.equal(tokens, open_clip.get_tokenizer("ViT-B-16")(texts))  # the bundled BPE, offline
    torch.manual_seed(1)
    images = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(model.encode_image(images), reference.encode_image(images), atol=ATOL, rtol=0)
        torch.testing.assert_close(model.encode_text(tokens), reference.encode_text(tokens), atol=ATOL, rtol=0)
    assert model.logit_scale.item() == reference.logit_scale.item()


def test_wrong_files_are_refused_with_one_line(open_clip_b16, tmp_path):
    _, path = open_clip_b16
    sd = torch.load(path, weights_only=True)
    cases = {"missing": {k: v for k, v in sd.items() if k != "ln_final.bias"},
             "extra": {**sd, "visual.attnpool.weight": torch.zeros(3)},
             "other kind": {"cls_token": torch.zeros(1, 1, 8), "blocks.0.norm1.weight": torch.ones(8)}}
    words = {"missing": "missing text.norm.bias", "extra": "unexpected visual.attnpool.weight",
             "other kind": "not a FLIP checkpoint"}
    for name, bad in cases.items():
        torch.save(bad, tmp_path / "bad.pt")
        with pytest.raises(UserError) as err:
            load_model(str(tmp_path / "bad.pt"))
        assert words[name] in err.value.line() and "bad.pt" in err.value.line(), err.value.line()
