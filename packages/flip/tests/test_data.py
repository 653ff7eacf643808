"""Image-text data: img2dataset-style tar shards and `path,caption` CSVs are read by random access, and on
every path that reads data (training, the zero-shot monitor, flip-zeroshot) an unreadable image, a missing
image or a missing / empty caption is skipped, named and counted, bounded by --max-skipped-fraction; bad
input ends in one line, exit status 2, before anything is written."""

import io
import tarfile

import pytest
import torch
from PIL import Image

from vis.core.data.imagetext import CaptionCSV, SyntheticScenes, TarShards
from vis.core.data.imagetext_spec import expand_braces
from vis.core.testing import fails_with_one_line
from vis.flip.cli import pretrain, zeroshot

BAD_KEYS = ("truncated", "nocaption", "emptycaption")


def jpeg(img: torch.Tensor) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img.permute(1, 2, 0).numpy()).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def write_shards(root, per_shard: int = 50) -> str:
    """Two shards of scenes as img2dataset writes them (<key>.jpg, <key>.txt, <key>.json), the second with
    the three BAD_KEYS: a truncated JPEG, an image without caption, an empty caption."""
    scenes = SyntheticScenes("train")
    root.mkdir(parents=True, exist_ok=True)
    for s in range(2):
        with tarfile.open(root / f"{s:05d}.tar", "w") as tar:
            for i in range(per_shard):
                img, caption = scenes[s * per_shard + i]
                key = f"{s:05d}{i:04d}"
                add(tar, f"{key}.jpg", jpeg(img))
                add(tar, f"{key}.txt", caption.encode())
                add(tar, f"{key}.json", b"{}")
            if s == 1:
                good = jpeg(scenes[0][0])
                add(tar, "truncated.jpg", good[: len(good) // 3])
                add(tar, "truncated.txt", b"a broken picture")
                add(tar, "nocaption.jpg", good)
                add(tar, "emptycaption.jpg", good)
                add(tar, "emptycaption.txt", b"  \n")
    return f"{root}/{{00000..00001}}.tar"


def test_tar_shards_are_read_by_key(tmp_path):
    pattern = write_shards(tmp_path / "shards", per_shard=5)
    assert expand_braces(pattern)[-1].endswith("/00001.tar")
    ds = TarShards(expand_braces(pattern))
    assert len(ds) == 13
    img, caption = ds[0]
    ref_img, ref_caption = SyntheticScenes("train")[0]
    assert caption == ref_caption and img.shape == (3, 32, 32) and (img.float() - ref_img.float()).abs().mean() < 8
    for key in BAD_KEYS:
        i = next(j for j in range(len(ds)) if ds.describe(j).endswith(f":{key}"))
        with pytest.raises((OSError, ValueError)):
            ds[i]


def test_corrupt_pairs_are_skipped_named_and_counted_in_training(tmp_path, fast_args, in_process, capsys):
    pattern = write_shards(tmp_path / "shards")
    args = [*fast_args, "--data", f"wds:{pattern}", "--samples-per-epoch", "103", "--batch-size", "103",
            "--epochs", "1", "--warmup-epochs", "0", "--zeroshot-data", "scenes:color"]
    result, out = in_process(pretrain.run, *args, "--max-skipped-fraction", "0.05", "--output-dir", tmp_path / "ok")
    for key in BAD_KEYS:
        assert f"00001.tar:{key}: " in out, out[-3000:]
    state = torch.load(tmp_path / "ok" / "checkpoints" / "last.pt", weights_only=True)
    assert state["samples"] == {"seen": 103, "skipped": 3}
    assert "zeroshot_top1" in result and "zeroshot_top1_random_init" in result
    err = fails_with_one_line(capsys, pretrain.run, *args, "--output-dir", tmp_path / "strict", code=1)
    assert "3 of 103 samples unreadable" in err and "--max-skipped-fraction 0.01" in err
    assert not (tmp_path / "strict" / "checkpoints" / "last.pt").exists()


def test_csv_pairs_and_zero_shot_csv_skip_unreadable_rows(tmp_path, fast_args, in_process, capsys):
    scenes = SyntheticScenes("val", 12)
    rows, labelled = ["path,caption"], ["path,label"]
    for i in range(12):
        img, caption = scenes[i]
        Image.fromarray(img.permute(1, 2, 0).numpy()).save(tmp_path / f"{i}.png")
        rows.append(f"{i}.png,{caption}")
        labelled.append(f"{i}.png,{caption.split()[3]}")
    rows += ["missing.png,a small red circle on the left", "0.png,"]
    (tmp_path / "broken.png").write_text("not an image")
    labelled.append("broken.png,circle")
    (tmp_path / "pairs.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "labels.csv").write_text("\n".join(labelled) + "\n")
    assert len(CaptionCSV(tmp_path / "pairs.csv")) == 14
    in_process(pretrain.run, *fast_args, "--data", f"csv:{tmp_path / 'pairs.csv'}", "--samples-per-epoch", "14",
               "--batch-size", "14", "--epochs", "1", "--warmup-epochs", "0", "--max-skipped-fraction", "0.2",
               "--output-dir", tmp_path / "run")
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    assert state["samples"] == {"seen": 14, "skipped": 2}
    result, out = in_process(zeroshot.run, "--checkpoint", tmp_path / "run" / "checkpoints" / "last.pt", "--data",
                             f"csv:{tmp_path / 'labels.csv'}", "--max-skipped-fraction", "0.2", "--output-dir",
                             tmp_path / "zs")
    assert "broken.png: " in out and "zero-shot evaluation: skipped 1 unreadable of 13 samples" in out, out[-2000:]
    assert result["skipped"] == 1 and (tmp_path / "zs" / "zeroshot.json").is_file()

    folder = tmp_path / "folder" / "val"  # the ImageNet layout: class names from the folders, '_' as a space
    for i in range(12):
        shape = scenes[i][1].split()[3]
        (folder / f"a_{shape}").mkdir(parents=True, exist_ok=True)
        (folder / f"a_{shape}" / f"{i}.png").write_bytes((tmp_path / f"{i}.png").read_bytes())
    (tmp_path / "templates.txt").write_text("a photo of {}.\nart of {}.\n")
    ckpt = tmp_path / "run" / "checkpoints" / "last.pt"
    result, _ = in_process(zeroshot.run, "--checkpoint", ckpt, "--data", f"imagefolder:{tmp_path / 'folder'}",
                           "--templates", tmp_path / "templates.txt", "--output-dir", tmp_path / "zs2")
    assert 0 <= result["top1"] <= 100 and result["skipped"] == 0
    (tmp_path / "bad_templates.txt").write_text("a photo\n")
    err = fails_with_one_line(capsys, zeroshot.run, "--checkpoint", ckpt, "--data", "scenes:shape", "--templates",
                              tmp_path / "bad_templates.txt", "--output-dir", tmp_path / "zs3")
    assert "lacks '{}'" in err and "bad_templates.txt" in err and not (tmp_path / "zs3").exists()


@pytest.mark.parametrize("args,words", [
    (["--data", "laion"], ["unknown image-text spec 'laion'", "wds:PATTERN"]),
    (["--data", "wds:/no/such/{00000..00003}.tar"], ["4 shard file(s) not found", "/no/such/00000.tar"]),
    (["--data", "csv:/no/such.csv"], ["CSV file not found"]),
    (["--zeroshot-data", "scenes:size"], ["unknown zero-shot dataset spec"]),
    (["--mask-ratio", "1"], ["--mask-ratio", "[0, 1)"]),
    (["--text-width", "30", "--text-heads", "4"], ["--text-width", "divisible by --text-heads 4"]),
    (["--loss", "global"], ["--loss"]),
    (["--recipe", "vit-b16-unmasked-tuning", "--data", "scenes"], ["--finetune", "not a file"]),
    (["--recipe", "vit-b16-laion400m-32ep"], ["41408 shard file(s) not found"]),
])
def test_bad_pretrain_values_fail_before_any_work(tmp_path, capsys, args, words):
    err = fails_with_one_line(capsys, pretrain.run, "--output-dir", tmp_path / "out", *args)
    assert all(w in err for w in words), err
    assert not (tmp_path / "out").exists()


def test_bad_zero_shot_input_fails_with_one_line(tmp_path, capsys):
    (tmp_path / "bad.csv").write_text("file,caption\nx.png,a\n")
    (tmp_path / "ckpt.pt").write_bytes(b"not a checkpoint")
    (tmp_path / "names.txt").write_text("circle\nsquare\n")
    (tmp_path / "templates.txt").write_text("a photo of a thing\n")
    cases = [
        ([], "--checkpoint is not a file, got output/flip-tiny-unmasked-tuning"),
        (["--checkpoint", tmp_path / "ckpt.pt"], "cannot read checkpoint"),
        (["--checkpoint", tmp_path / "ckpt.pt", "--data", f"csv:{tmp_path / 'bad.csv'}"], "cannot read checkpoint"),
        (["--checkpoint", tmp_path / "none.pt"], "--checkpoint is not a file"),
        (["--checkpoint", tmp_path / "ckpt.pt", "--templates", tmp_path / "no.txt"], "--templates is not a file"),
    ]
    for args, words in cases:
        err = fails_with_one_line(capsys, zeroshot.run, "--output-dir", tmp_path / "out", *args)
        assert words in err, err
    assert not (tmp_path / "out").exists()
