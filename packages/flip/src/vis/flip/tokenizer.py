"""Tokenizers: CLIP's BPE as bundled in open_clip_torch (the vis-flip[clip] extra; its vocabulary file ships
inside the wheel, so nothing is downloaded), and a dependency-free word tokenizer for small runs."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import torch

from vis.core.errors import UserError

PAD, START = 0, 1


class ClipBpe:
    """open_clip's SimpleTokenizer: start token 49406, end-of-text 49407 (the largest id, which CLIP's
    readout looks for), zero padding, cut to `context_length` keeping the end token."""

    vocab_size = 49408

    def __init__(self, context_length: int = 32):
        try:
            from open_clip.tokenizer import SimpleTokenizer
        except ImportError:
            raise UserError("the CLIP BPE tokenizer needs open_clip_torch", "--tokenizer clip_bpe",
                            "pip install 'vis-flip[clip]', or use --tokenizer words") from None
        self.context_length = context_length
        self._tok = SimpleTokenizer(context_length=context_length)

    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        return self._tok(list(texts), context_length=self.context_length)


class HashWords:
    """Lower-case words and numbers, each hashed (CRC-32) into ids 2 .. vocab_size - 1 after a start token
    1, zero padding: no vocabulary file, deterministic across processes."""

    def __init__(self, context_length: int = 32, vocab_size: int = 4096):
        self.context_length, self.vocab_size = context_length, vocab_size

    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        out = torch.full((len(texts), self.context_length), PAD, dtype=torch.long)
        for i, t in enumerate(texts):
            ids = [START] + [2 + zlib.crc32(w.encode()) % (self.vocab_size - 2)
                             for w in re.findall(r"[a-z0-9]+", t.lower())]
            ids = ids[: self.context_length]
            out[i, : len(ids)] = torch.tensor(ids)
        return out


def build_tokenizer(kind: str, context_length: int, vocab_size: int = 4096) -> ClipBpe | HashWords:
    """The tokenizer a config (or a checkpoint's saved config) names."""
    return ClipBpe(context_length) if kind == "clip_bpe" else HashWords(context_length, vocab_size)


class TokenizedPairs(torch.utils.data.Dataset):
    """(image, caption) pairs -> (image, tokens [context_length]): captions are tokenized in the loader's
    workers; a caption that cannot be read fails the sample (skipped and counted by the loader)."""

    def __init__(self, pairs: torch.utils.data.Dataset, tokenizer):
        self.pairs, self.tokenizer = pairs, tokenizer

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, caption = self.pairs[i]
        return image, self.tokenizer([caption])[0]

    def describe(self, i: int) -> str:
        return self.pairs.describe(i) if hasattr(self.pairs, "describe") else f"pair {i}"
