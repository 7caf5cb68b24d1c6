"""The playback feeder when the project changes while it renders (a fader drag).

No audio device is opened: the ring buffer is filled the way ``Player.play`` fills it
before the stream starts, and the edits are made from inside the renderer, which is
when they reach a playing feeder.
"""

from __future__ import annotations

import numpy as np
import pytest

from editor.core.model import Clip, Project, Track
from editor.core.sequence import AudioSeq
from editor.engine import playback
from editor.engine.playback import Player

RATE = 48000


def _project(store, level: float) -> Project:
    data = np.full((1, 4 * RATE), 0.5, np.float32)
    seq = AudioSeq.from_blocks(store.blocks_from_array(data), 1)
    gain_db = 20 * np.log10(level)
    return Project(RATE, (Track("t", (Clip(seq, 0),), gain_db=float(gain_db)),))


@pytest.fixture
def player(store):
    p = Player()
    p.set_project(_project(store, 1.0))
    p._start_ring(0, None, False)
    yield p
    p.stop()


def _heard(p: Player) -> np.ndarray:
    return p._ring[0, p._read:p._write]


def test_an_edit_while_the_buffer_is_low_keeps_the_chunk_and_is_heard_from_the_next(player, store, monkeypatch):
    quieter = _project(store, 0.5)
    real_render = playback.render
    calls = []

    def render_during_a_fader_move(project, pos, n, **kw):
        out = real_render(project, pos, n, **kw)
        if not calls:
            player.set_project(quieter)  # the user moves a fader while this chunk renders
        calls.append(project)
        return out

    monkeypatch.setattr(playback, "render", render_during_a_fader_move)
    player._fill(2 * Player.CHUNK)
    # Nothing was thrown away: the first chunk (old level) is in the ring, then the new level.
    assert player._write == 2 * Player.CHUNK
    assert len(calls) == 2 and calls[1] is quieter
    ring = _heard(player)
    first, second = ring[: Player.CHUNK], ring[Player.CHUNK:]
    assert np.allclose(second, first[0] * 0.5, atol=1e-6) and not np.allclose(first, second)


def test_an_edit_with_audio_buffered_ahead_renders_it_again_from_the_head_start(player, store):
    player._fill(int(Player.AHEAD_SECONDS * RATE))
    ahead = player._write - player._read
    assert ahead >= int(Player.AHEAD_SECONDS * RATE)
    player._playing = True  # what play() sets once the stream runs
    try:
        player.set_project(_project(store, 0.5))
        keep = int(Player.KEEP_SECONDS * RATE)
        assert player._write - player._read == keep  # rendered-ahead audio beyond the head start is dropped
        player._fill(int(Player.AHEAD_SECONDS * RATE))
    finally:
        player._playing = False
    ring = _heard(player)
    assert np.allclose(ring[keep:], ring[0] * 0.5, atol=1e-6)  # the change is heard after the head start
