"""vis-core[video]: frame numbering and seeking of the readers, clip sampling, frame-consistent transforms,
the multi-view meter, the dataset specs and the validation pass, on real MP4 files written here by PyAV."""

from pathlib import Path

import numpy as np
import pytest
import torch

from vis.core.data.moving_shapes import write_mp4
from vis.core.data.specs import parse_data_spec
from vis.core.data.video import ClipSampler, ClipSpec, VideoFile, VideoList, clip_frame_indices, uniform_start
from vis.core.data.video_check import validate_videos
from vis.core.data.video_io import TruncatedVideo, backend_available, open_video
from vis.core.data.video_transforms import ClipCropFlip, ClipTestView, finetune_clip
from vis.core.errors import UserError
from vis.core.eval.multiview import MultiViewMeter

FRAMES = 40


def coded_frames(n: int = FRAMES, size: int = 32) -> np.ndarray:
    """Frame k is a flat grey of level 6k (distinct after lossy coding)."""
    return np.stack([np.full((size, size, 3), 6 * k, np.uint8) for k in range(n)])


def frame_number(frames: torch.Tensor) -> list[int]:
    return [round(float(f.float().mean()) / 6) for f in frames]


@pytest.fixture(scope="module")
def coded(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("video") / "coded.mp4"
    write_mp4(path, coded_frames(), fps=30, gop=8)
    return str(path)


BACKENDS = [pytest.param(b, marks=pytest.mark.skipif(not backend_available(b), reason=f"{b} not loadable here"))
            for b in ("pyav", "torchcodec")]


@pytest.mark.parametrize("backend", BACKENDS)
def test_frame_index_is_presentation_time_times_fps_and_seeking_gives_the_same_frames(coded, backend):
    reader = open_video(coded, backend)
    assert (reader.meta.num_frames, reader.meta.fps) == (FRAMES, 30.0)
    everything = reader.get_frames(range(FRAMES))
    assert frame_number(everything) == list(range(FRAMES))
    reader.close()
    for wanted in ([17, 3, 30], [39], [8, 9, 10, 24]):  # unsorted, last frame, across keyframes
        reader = open_video(coded, backend)
        got = reader.get_frames(wanted)
        reader.close()
        assert frame_number(got) == wanted
        assert torch.equal(got, everything[wanted])


def test_a_frame_far_past_the_end_is_a_truncated_video(coded):
    reader = open_video(coded)
    with pytest.raises(TruncatedVideo):
        reader.get_frames([FRAMES + 5])
    reader.close()


def test_clip_indices_follow_the_mae_st_rule():
    # 16 x 4 at 30 fps on a 30 fps video: span 64 frames, linspace(start, start + 63, 16) truncated
    assert ClipSpec(16, 4).span(30.0) == 64
    idx = clip_frame_indices(10.0, 64, 16, 300)
    assert idx == [int(x) for x in np.linspace(10, 73, 16)] and idx[1] - idx[0] == 4
    assert clip_frame_indices(0.0, 64, 16, 20)[-1] == 19  # clamped to a short video
    assert ClipSpec(16, 4).span(60.0) == 128  # a 60 fps video: twice the source frames for the same time
    # test views: start = k * floor(delta / (K - 1)), one view in the middle
    assert [uniform_start(k, 3, 64, 300) for k in range(3)] == [0, 118, 236]
    assert uniform_start(0, 1, 64, 300) == 118


def test_repeated_sampling_draws_independent_clips_from_one_decode(coded):
    sampler = ClipSampler(ClipSpec(8, 1), ClipCropFlip(16, (0.5, 1.0)), repeats=4)
    torch.manual_seed(0)
    clips = sampler(VideoFile(coded))
    assert clips.shape == (4, 3, 8, 16, 16)
    firsts = {round(float(c[:, 0].mean()), 3) for c in clips}
    assert len(firsts) > 1  # the clips start at different times


@pytest.mark.parametrize("make", [lambda: ClipCropFlip(16), lambda: finetune_clip(16, None, 0.0, 0.5),
                                  lambda: finetune_clip(16, "rand-m7-mstd0.5-inc1", 1.0, 0.08)])
def test_every_frame_of_a_clip_gets_the_same_crop_flip_and_augmentation(make):
    tf = make()
    photo = torch.from_numpy(np.asarray(__import__("skimage.data").data.astronaut())).permute(2, 0, 1)[:, ::8, ::8]
    still = photo.unsqueeze(0).repeat(6, 1, 1, 1).contiguous()  # six identical frames
    for seed in range(5):
        torch.manual_seed(seed)
        out = tf(still)
        assert out.shape == (3, 6, 16, 16)
        assert all(torch.equal(out[:, 0], out[:, t]) for t in range(6))
    torch.manual_seed(0)
    a = tf(still)
    torch.manual_seed(1)
    assert not torch.equal(a, tf(still))  # but another clip gets another draw


def test_three_spatial_test_views_cover_left_centre_right():
    frames = torch.arange(48, dtype=torch.uint8).view(1, 1, 1, 48).expand(2, 3, 32, 48).contiguous()
    views = [ClipTestView(32)(frames, s) for s in range(3)]
    lefts = [round(float(v[0, 0, 0, 0]) * 0.225 * 255 + 0.45 * 255) for v in views]
    assert lefts == [0, 8, 16]


def test_multi_view_meter_averages_softmax_per_video():
    m = MultiViewMeter(3, 2)
    views = torch.tensor([[[2.0, 0.0], [0.0, 1.0]], [[0.0, 3.0], [0.0, 3.0]]])
    m.add(torch.tensor([0, 1]), views, torch.tensor([0, 1]))
    m.add(torch.tensor([0]), torch.tensor([[0.0, 5.0]]), torch.tensor([0]))  # a third view of video 0
    s = m.summary()
    assert s["videos"] == 2 and s["views_per_video"] == 2.5
    assert s["top1"] == 50.0  # video 0: softmax sums favour class 1 after its third view


def test_kinetics_csv_relative_paths_and_folder_layout(tmp_path, coded):
    (tmp_path / "k" / "clips").mkdir(parents=True)
    (tmp_path / "k" / "clips" / "a.mp4").write_bytes(Path(coded).read_bytes())
    (tmp_path / "k" / "train.csv").write_text(f"clips/a.mp4 1\n{coded} 0\n")
    data = parse_data_spec(f"kinetics:{tmp_path / 'k'}").dataset("train")
    assert len(data) == 2 and data.num_classes == 2 and data.describe(0) == str(tmp_path / "k" / "clips" / "a.mp4")
    (tmp_path / "k" / "val.csv").write_text("clips/a.mp4 1 extra\n")
    with pytest.raises(UserError, match="line 1 is not"):
        parse_data_spec(f"kinetics:{tmp_path / 'k'}").dataset("val")
    with pytest.raises(UserError, match="no train.csv"):
        parse_data_spec(f"kinetics:{tmp_path}")
    (tmp_path / "f" / "jump").mkdir(parents=True)
    (tmp_path / "f" / "jump" / "x.mp4").write_bytes(Path(coded).read_bytes())
    folder = parse_data_spec(f"videofolder:{tmp_path / 'f'}").dataset("train")
    assert isinstance(folder, VideoList) and len(folder) == 1


def test_validation_writes_readable_and_unreadable_lists_and_never_overwrites(tmp_path, coded):
    whole = Path(coded).read_bytes()
    (tmp_path / "cut.mp4").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "train.csv").write_text(f"{coded} 0\ncut.mp4 1\nmissing.mp4 1\n")
    counts = validate_videos(parse_data_spec(f"kinetics:{tmp_path}"), ("train", "val"), tmp_path / "out")
    assert counts == {"train": (1, 2)}
    assert (tmp_path / "out" / "train.csv").read_text() == f"{Path(coded).resolve()} 0\n"
    bad = (tmp_path / "out" / "train.unreadable.txt").read_text()
    assert "cut.mp4" in bad and "missing.mp4" in bad
    before = (tmp_path / "out" / "train.csv").read_bytes()
    with pytest.raises(UserError, match="output files exist"):
        validate_videos(parse_data_spec(f"kinetics:{tmp_path}"), ("train",), tmp_path / "out")
    assert (tmp_path / "out" / "train.csv").read_bytes() == before
