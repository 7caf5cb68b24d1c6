"""Encoders behind one small interface: open, write interleaved chunks, close.

* WAV, AIFF, FLAC, OGG Vorbis and Opus go through libsndfile (soundfile). Its
  string tags cover title, artist, album, date, comment, genre and track number
  for WAV (LIST/INFO), FLAC and Ogg (Vorbis comments); AIFF stores only title,
  artist and comment natively, so AIFF also gets an ID3 chunk (mutagen) with all
  of them, which is what iTunes and most players read.
* MP3 goes through LAME (lameenc), which takes an exact constant bitrate
  (libsndfile's MP3 writer has only a 0–1 "compression level"). Tags are ID3v2.4
  written with mutagen.

Writers never choose file names: the exporter hands them a temporary path and
renames the result.
"""

from __future__ import annotations

import contextlib
import errno
from pathlib import Path

import numpy as np
import soundfile as sf

#: Tag names accepted in :attr:`ExportSettings.tags`, with accepted aliases.
TAG_NAMES = ("title", "artist", "album", "date", "comment", "genre", "tracknumber")
TAG_ALIASES = {"track": "tracknumber", "track_number": "tracknumber", "year": "date", "tracknum": "tracknumber"}

_AIFF_NATIVE = ("title", "artist", "comment")

#: Sample rates LAME can write (MPEG 1, 2 and 2.5).
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_MP3_BITRATES = {
    1: (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}


def mp3_bitrates(rate: int) -> tuple[int, ...]:
    """Constant bitrates (kbit/s) an MP3 at ``rate`` Hz can have."""
    if rate >= 32000:
        return _MP3_BITRATES[1]
    if rate >= 16000:
        return _MP3_BITRATES[2]
    return tuple(b for b in _MP3_BITRATES[2] if b <= 64)


def normalise_tags(tags: dict[str, str]) -> dict[str, str]:
    """Tags with canonical lower-case names; raises ValueError for an unknown name."""
    out: dict[str, str] = {}
    for key, value in tags.items():
        k = key.strip().lower()
        k = TAG_ALIASES.get(k, k)
        if k not in TAG_NAMES:
            raise ValueError(f"unknown tag {key!r}; use one of {', '.join(TAG_NAMES)}")
        if value is not None and str(value) != "":
            out[k] = str(value)
    return out


class SoundFileWriter:
    """libsndfile output (WAV, RF64, AIFF, FLAC, OGG Vorbis, Opus)."""

    def __init__(self, path: Path, container: str, subtype: str, rate: int, channels: int,
                 tags: dict[str, str]) -> None:
        self.path = path
        self.container = container
        self._tags = tags
        self._file = sf.SoundFile(str(path), "w", samplerate=rate, channels=channels, subtype=subtype,
                                  format=container)
        for k, v in tags.items():
            if container == "AIFF" and k not in _AIFF_NATIVE:
                continue
            setattr(self._file, k, v)

    def write(self, data: np.ndarray) -> None:
        try:
            self._file.write(data)
        except AssertionError:  # soundfile's check that every frame was written
            raise OSError(errno.EIO, "the file system accepted only part of the audio") from None

    def close(self) -> None:
        self._file.close()
        if self.container == "AIFF" and self._tags:
            _write_id3(self.path, self._tags, aiff=True)

    def abort(self) -> None:
        if not self._file.closed:
            with contextlib.suppress(sf.LibsndfileError, RuntimeError, OSError):
                self._file.close()


class Mp3Writer:
    """Constant-bitrate MP3 through LAME; takes interleaved int16.

    lameenc writes bare MP3 frames, so a decoder would play LAME's encoder delay
    (576 samples) and the padding of the last frame as silence. The writer keeps
    room for one frame at the start and fills it at the end with a LAME "Info"
    frame giving the frame count, delay and padding, as the ``lame`` command
    does; gapless decoders (mpg123, and so libsndfile; ffmpeg; most players)
    then give back exactly the samples that went in.
    """

    def __init__(self, path: Path, rate: int, channels: int, bitrate: int, tags: dict[str, str]) -> None:
        import lameenc

        self.path = path
        self._tags = tags
        self._rate = rate
        self._channels = channels
        self._bitrate = int(bitrate)
        enc = lameenc.Encoder()
        enc.set_bit_rate(self._bitrate)
        enc.set_in_sample_rate(rate)
        enc.set_out_sample_rate(rate)
        enc.set_channels(channels)
        enc.set_quality(2)  # 2 = high quality, as LAME's -h
        self._enc = enc
        self._info = _InfoFrame(rate, channels, self._bitrate)
        self._frames = _FrameCounter()
        self._samples = 0
        self._fh = open(path, "wb")  # noqa: SIM115 - closed in close()/abort()
        self._fh.write(bytes(self._info.size))

    def write(self, data: np.ndarray) -> None:
        pcm = np.ascontiguousarray(data, dtype=np.int16)
        self._samples += pcm.shape[0]
        out = self._enc.encode(pcm.tobytes())
        self._frames.feed(out)
        self._fh.write(out)

    def close(self) -> None:
        out = self._enc.flush()
        self._frames.feed(out)
        self._fh.write(out)
        audio_bytes = self._fh.tell()
        if self._frames.ok:
            self._fh.seek(0)
            self._fh.write(self._info.build(self._frames.count, audio_bytes, self._samples))
        self._fh.flush()
        self._fh.close()
        if self._tags:
            _write_id3(self.path, self._tags, aiff=False)

    def abort(self) -> None:
        self._fh.close()


# MPEG audio layer III tables: bitrates (kbit/s) by index, for MPEG 1 and MPEG 2/2.5.
_L3_BITRATES = {1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
                2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)}
_RATES = {1: (44100, 48000, 32000), 2: (22050, 24000, 16000), 25: (11025, 12000, 8000)}
_VERSION_BITS = {1: 0b11, 2: 0b10, 25: 0b00}
LAME_ENCODER_DELAY = 576


def _mpeg_version(rate: int) -> int:
    return next(v for v, rates in _RATES.items() if rate in rates)


class _FrameCounter:
    """Counts MP3 frames in a byte stream fed in arbitrary pieces."""

    def __init__(self) -> None:
        self.count = 0
        self.ok = True
        self._skip = 0
        self._carry = b""

    def feed(self, data: bytes) -> None:
        if not self.ok or not data:
            return
        buf = self._carry + bytes(data)
        i = self._skip
        while i + 4 <= len(buf):
            b0, b1, b2 = buf[i], buf[i + 1], buf[i + 2]
            if b0 != 0xFF or (b1 & 0xE0) != 0xE0:
                self.ok = False  # not LAME's usual stream: leave the file without an Info frame
                return
            version = {0b11: 1, 0b10: 2, 0b00: 25}.get((b1 >> 3) & 3, 1)
            kbps = _L3_BITRATES[1 if version == 1 else 2][b2 >> 4]
            rate = _RATES[version][(b2 >> 2) & 3]
            length = (144000 if version == 1 else 72000) * kbps // rate + ((b2 >> 1) & 1)
            self.count += 1
            i += length
        if i >= len(buf):
            self._skip, self._carry = i - len(buf), b""
        else:
            self._skip, self._carry = 0, buf[i:]


class _InfoFrame:
    """The Xing/LAME "Info" frame of a constant-bitrate MP3."""

    def __init__(self, rate: int, channels: int, kbps: int) -> None:
        self.version = _mpeg_version(rate)
        self.rate = rate
        self.channels = channels
        self.samples_per_frame = 1152 if self.version == 1 else 576
        if self.version == 1:
            self.side_info = 32 if channels == 2 else 17
        else:
            self.side_info = 17 if channels == 2 else 9
        need = 4 + self.side_info + 156
        table = _L3_BITRATES[1 if self.version == 1 else 2]
        # The tag frame may use a higher bitrate than the stream if one frame is too small for it.
        for index in range(table.index(kbps), len(table)):
            size = (144000 if self.version == 1 else 72000) * table[index] // rate
            if size >= need:
                break
        self.bitrate_index = index
        self.kbps = kbps
        self.size = size

    def build(self, frames: int, audio_bytes: int, samples: int) -> bytes:
        import struct

        header = bytes([
            0xFF,
            0xE0 | (_VERSION_BITS[self.version] << 3) | (0b01 << 1) | 1,  # layer III, no CRC
            (self.bitrate_index << 4) | (_RATES[self.version].index(self.rate) << 2),
            (0b01 if self.channels == 2 else 0b11) << 6,  # joint stereo or mono
        ])
        body = bytearray(header + bytes(self.side_info))
        audio_frames = frames
        total = self.size + (audio_bytes - self.size)
        body += b"Info" + struct.pack(">III", 0x0F, audio_frames, total)
        body += bytes(int(i * 256 / 100) for i in range(100))  # TOC of a constant-bitrate stream
        body += struct.pack(">I", 0)  # quality
        padding = max(0, audio_frames * self.samples_per_frame - LAME_ENCODER_DELAY - samples)
        body += b"LAME3.100" + bytes([0x01, 0]) + bytes(8) + bytes([0, min(255, self.kbps)])
        body += ((LAME_ENCODER_DELAY << 12) | min(padding, 0xFFF)).to_bytes(3, "big")
        body += bytes([0, 0]) + bytes(2) + struct.pack(">I", total) + bytes(2)
        body += struct.pack(">H", _crc16(bytes(body)))
        return bytes(body) + bytes(self.size - len(body))


def _crc16(data: bytes) -> int:
    """CRC-16 (polynomial 0x8005, reflected, as LAME uses for its tag)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _write_id3(path: Path, tags: dict[str, str], aiff: bool) -> None:
    from mutagen import id3

    frames = {
        "title": id3.TIT2,
        "artist": id3.TPE1,
        "album": id3.TALB,
        "date": id3.TDRC,
        "genre": id3.TCON,
        "tracknumber": id3.TRCK,
    }
    if aiff:
        from mutagen.aiff import AIFF

        f = AIFF(str(path))
        if f.tags is None:
            f.add_tags()
        tag = f.tags
    else:
        tag = id3.ID3()
    for k, v in tags.items():
        if k == "comment":
            tag.add(id3.COMM(encoding=3, lang="eng", desc="", text=[v]))
        else:
            tag.add(frames[k](encoding=3, text=[v]))
    from mutagen import MutagenError

    try:
        if aiff:
            f.save()
        else:
            tag.save(str(path), v2_version=4)
    except MutagenError as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, OSError):
            raise cause from None
        raise OSError(errno.EIO, f"cannot write tags ({exc})") from None


def read_tags(path: str | Path) -> dict[str, str]:
    """Tags of an exported file by canonical name (for the info view and tests)."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(12)
    id3_names = {"TIT2": "title", "TPE1": "artist", "TALB": "album", "TDRC": "date", "TCON": "genre",
                 "TRCK": "tracknumber"}
    if head[:3] == b"ID3" or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        from mutagen import id3

        try:
            t = id3.ID3(str(path))
        except id3.ID3NoHeaderError:
            return {}
        out = {id3_names[f.FrameID]: str(f.text[0]) for f in t.values() if f.FrameID in id3_names}
        comm = t.getall("COMM")
        if comm:
            out["comment"] = str(comm[0].text[0])
        return out
    with sf.SoundFile(str(path)) as f:
        meta = {k: v for k, v in f.copy_metadata().items() if k in TAG_NAMES}
    if head[:4] == b"FORM":
        from mutagen.aiff import AIFF

        id3tags = AIFF(str(path)).tags
        if id3tags is not None:
            for f in id3tags.values():
                if f.FrameID in id3_names:
                    meta.setdefault(id3_names[f.FrameID], str(f.text[0]))
            for c in id3tags.getall("COMM"):
                meta.setdefault("comment", str(c.text[0]))
    return meta
