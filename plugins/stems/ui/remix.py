"""The stem-aware remix panel: split a music clip into stems, rebalance them while listening.

Like iZotope RX's Music Rebalance or Resolve's Music Remixer. The panel works on
the selected clip (or the clip under the cursor on the selected track):

* **Separate** runs the separation as a job (progress, cancel) with the chosen
  model: Spleeter (bundled, offline; drums, bass and other are an approximate
  DSP split, and the rows say so) or an HTDemucs model once installed (until
  then the panel says what is missing and offers Models…). Separations are
  cached on disk by content (:mod:`seedwave_plugins.stems.cache`), and the panel
  keeps the sessions of the last few clips, so coming back to a clip or moving
  a slider never runs the model again.
* One row per stem: gain (−inf to +12 dB), mute, solo, pan, Effect… (process
  that stem alone, e.g. denoise the vocals; see :mod:`.remix_fx`).
* **Preview** plays the remix; every control change is heard at once, A/B
  switches to the original (:mod:`.remix_preview`). Moving a control while the
  document plays takes the playback over at the playhead.
* **Apply** replaces the clip's audio by the remix, one undo step whose history
  entry records the model, its checksums and the per-stem settings.
* **Extract to tracks** puts each stem on a new track right below the source
  track, sample-aligned with the clip; the source track is muted. One undo step.

The stems plugin's manifest (plugin.toml) contributes this panel, the
Effects > Stem Remix Panel… command (:func:`show_remix`) and its context-menu entry.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from editor.core.errors import SeedwaveError
from editor.core.model import Clip
from editor.core.sequence import AudioSeq
from editor.core.task import TaskContext
from editor.core.timefmt import format_hms
from editor.effects import device as devices
from editor.effects.base import EffectContext
from editor.host import Host
from editor.host.widgets.ab_row import add_variant_buttons
from editor.jobs.runner import Job

from .remix_fx import StemEffectDialog, stem_effect_job, stem_effects
from .remix_model import ProcessedStem, StemSession, describe
from .remix_models import ModelChooser
from .remix_preview import RemixPreview
from .remix_strips import StemRow
from .settings_page import apply_cache_limit

PANEL_ID = "stems.remix"  # the panel's id in plugin.toml
KEEP_SESSIONS = 4  # clips whose stems and settings the panel remembers


def _status_style(kind: str) -> str:
    return {"error": "color: #d04040;", "warn": "color: #c77d00;"}.get(kind, "")


class RemixPanel(QWidget):
    """The dock's content. See the module docstring."""

    separation_finished = Signal(object)  # the Job, whatever its outcome
    stem_effect_finished = Signal(object)  # the Job, whatever its outcome
    applied = Signal(bool)  # an Apply ended (True: it is in the history)
    session_changed = Signal(object)  # the StemSession shown now, or None

    def __init__(self, host: Host, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.session: StemSession | None = None
        self.clip_id: str | None = None  # the clip the panel is about
        self.sessions: OrderedDict[str, StemSession] = OrderedDict()
        self.rows: dict[str, StemRow] = {}
        self.sep_job: Job | None = None
        self.fx_jobs: dict[tuple[str, str], Job] = {}  # (clip id, stem) -> running stem effect
        self.apply_job: Job | None = None
        self.fx_dialog: StemEffectDialog | None = None
        self.preview = RemixPreview(host, lambda: self.session, self)
        self.setAccessibleName("Remix")
        apply_cache_limit(host)  # the stem cache size the user chose in Settings > Stems
        self._build()
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self.refresh)
        host.selection.changed.connect(self._refresh_timer.start)
        host.selection.cursor_changed.connect(self._refresh_timer.start)
        host.document.changed.connect(self._document_changed)
        self.preview.state_changed.connect(self._preview_state)
        self.refresh()

    # -- building ---------------------------------------------------------------------
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.target_label = QLabel()
        self.target_label.setWordWrap(True)
        self.target_label.setStyleSheet("font-weight: bold;")
        self.target_label.setAccessibleName("Clip to remix")
        lay.addWidget(self.target_label)

        self.models = ModelChooser(self.host)
        self.models.changed.connect(self._update_buttons)
        self.model = self.models.combo
        self.model_note = self.models.note
        self.models_button = self.models.models_button
        lay.addWidget(self.models)

        srow = QHBoxLayout()
        self.separate_button = QPushButton("Separate")
        self.separate_button.setAccessibleName("Separate stems")
        self.separate_button.setToolTip("Split the clip into stems (cached: a clip is separated once per model)")
        self.separate_button.clicked.connect(self.separate)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setAccessibleName("Separation progress")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel separation")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        srow.addWidget(self.separate_button)
        srow.addWidget(self.progress, 1)
        srow.addWidget(self.cancel_button)
        lay.addLayout(srow)

        self.approx_note = QLabel()
        self.approx_note.setWordWrap(True)
        self.approx_note.setStyleSheet("color: #c77d00;")
        self.approx_note.setAccessibleName("Approximate stems")
        self.approx_note.hide()
        lay.addWidget(self.approx_note)

        self.rows_box = QWidget()
        self.rows_lay = QVBoxLayout(self.rows_box)
        self.rows_lay.setContentsMargins(0, 0, 0, 0)
        self.rows_lay.setSpacing(2)
        self.empty_label = QLabel("Separate the clip to get its stems: vocals, drums, bass and other. "
                                  "Then set each stem's level, mute, solo and pan while you listen, "
                                  "apply the remix to the clip or extract the stems to tracks.")
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: palette(mid);")
        self.empty_label.setAccessibleName("Remix help")
        self.rows_lay.addWidget(self.empty_label)
        self.rows_lay.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.rows_box)
        scroll.setMinimumHeight(130)
        lay.addWidget(scroll, 1)

        prow = QHBoxLayout()
        self.play_button = QPushButton("Preview")
        self.play_button.setAccessibleName("Preview remix")
        self.play_button.setToolTip("Play the remix from the playhead; every change is heard at once")
        self.play_button.clicked.connect(self.preview.toggle)
        prow.addWidget(self.play_button)
        self.variant_group, self.variant_buttons, self.ab_button = add_variant_buttons(
            self, prow,
            (("original", "A: Original", "Hear the original clip"), ("remix", "B: Remix", "Hear the remix")),
            self.preview.set_variant, self.preview.toggle_ab, "Switch between original and remix")
        self.variant_buttons["remix"].setChecked(True)
        prow.addStretch(1)
        self.reset_button = QToolButton()
        self.reset_button.setText("Reset")
        self.reset_button.setAccessibleName("Reset stems")
        self.reset_button.setToolTip("All stems back to 0 dB, centre, no mute or solo")
        self.reset_button.clicked.connect(self.reset)
        prow.addWidget(self.reset_button)
        lay.addLayout(prow)

        arow = QHBoxLayout()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Remix status")
        self.extract_button = QPushButton("Extract to tracks")
        self.extract_button.setAccessibleName("Extract stems to tracks")
        self.extract_button.setToolTip("Put each stem on a new track below the clip's track (which is muted)")
        self.extract_button.clicked.connect(self.extract)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setAccessibleName("Apply remix")
        self.apply_button.setToolTip("Replace the clip's audio by the remix (one undo step)")
        self.apply_button.clicked.connect(self.apply)
        arow.addWidget(self.status, 1)
        arow.addWidget(self.extract_button)
        arow.addWidget(self.apply_button)
        lay.addLayout(arow)

    # -- the clip ---------------------------------------------------------------------------
    def target(self) -> tuple[str, str] | None:
        """(track id, clip id) of the selected clip, or of the clip under the cursor on the
        selected track (the only track if there is one)."""
        project, st = self.host.document.project, self.host.selection.current()
        for cid in st.clip_ids:
            try:
                track, clip = project.find_clip(cid)
            except KeyError:
                continue
            return track.id, clip.id
        tids = st.track_ids or ((project.tracks[0].id,) if len(project.tracks) == 1 else ())
        frame = st.start if st.has_range else st.cursor
        for tid in tids[:1]:
            try:
                track = project.track(tid)
            except KeyError:
                continue
            for c in track.clips:
                if c.position <= frame < c.end:
                    return track.id, c.id
        return None

    def _clip(self) -> Clip | None:
        if self.clip_id is None:
            return None
        try:
            return self.host.document.project.find_clip(self.clip_id)[1]
        except KeyError:
            return None

    def refresh(self) -> None:
        """Follow the selection: show the targeted clip and its session (if it has one)."""
        tgt = self.target()
        if tgt is not None and tgt[1] != self.clip_id:
            self.preview.stop()
            self.clip_id = tgt[1]
        elif self.clip_id is not None and self._clip() is None:
            self.preview.stop()
            self.clip_id = None
        # The clip's session, if it has a usable one (an undo can make a stale one usable again).
        want = self._session_for(self.clip_id) if self.clip_id else None
        if want is not self.session:
            self._show_session(want)
        self._update_target()
        self._update_buttons()

    def _session_for(self, clip_id: str) -> StemSession | None:
        s = self.sessions.get(clip_id)
        if s is None or not s.usable(self.host.document.project):
            return None
        self.sessions.move_to_end(clip_id)
        return s

    def _document_changed(self, _project: object) -> None:
        self._refresh_timer.start()
        if self.session is not None and self.session.usable(self.host.document.project):
            self.preview.changed()  # the scratch project follows edits elsewhere

    def _update_target(self) -> None:
        clip = self._clip()
        if clip is None:
            self.target_label.setText("Select a clip (or put the cursor on one) to remix it")
            return
        track = self.host.document.project.find_clip(clip.id)[0]
        rate = self.host.document.project.sample_rate
        name = clip.name or "clip"
        self.target_label.setText(f"{name} on {track.name} ({format_hms(clip.position, rate)}–"
                                  f"{format_hms(clip.end, rate)})")
        s = self.sessions.get(clip.id)
        if self.session is None and s is not None and s.state(self.host.document.project) == "stale":
            self._say("The clip changed since it was separated: separate it again", "warn")

    def _update_buttons(self) -> None:
        busy = self.sep_job is not None and self.sep_job.active
        usable = self.session is not None and self.session.usable(self.host.document.project)
        can_sep = self._clip() is not None and not busy and self.models.installed()
        self.separate_button.setEnabled(can_sep)
        self.separate_button.setText("Separate again" if usable else "Separate")
        self.model.setEnabled(not busy)
        applying = self.apply_job is not None and self.apply_job.active
        for b in (self.apply_button, self.extract_button, self.reset_button):
            b.setEnabled(usable and not applying)
        for b in (self.play_button, self.ab_button, *self.variant_buttons.values()):
            b.setEnabled(usable)
        for r in self.rows.values():
            r.setEnabled(usable and (self.clip_id, r.name) not in self.fx_jobs)

    # -- the stems ----------------------------------------------------------------------------
    def _show_session(self, session: StemSession | None) -> None:
        if self.session is not None and self.session is not session:
            self.session.drop_region()  # a remembered session keeps no preview arrays
        self.session = session
        for r in self.rows.values():
            self.rows_lay.removeWidget(r)
            r.hide()
            r.deleteLater()
        self.rows.clear()
        if session is not None:
            effects = stem_effects(self.host.effects.registry.classes())
            for i, name in enumerate(session.names):
                row = StemRow(name, session.is_approximate(name))
                row.set_mix(session.setting(name))
                p = session.processed.get(name)
                row.set_processed(p.title if p else None)
                row.set_effects(effects)
                if session.source.channels != 2:
                    row.pan.setEnabled(False)
                    row.pan.setToolTip("Pan needs a stereo clip")
                row.changed.connect(self._row_changed)
                row.effect_chosen.connect(self.choose_stem_effect)
                row.revert_requested.connect(self.revert_stem)
                self.rows_lay.insertWidget(i + 1, row)
                self.rows[name] = row
            approx = session.stems.approximate_stems
            if approx:
                self.approx_note.setText(f"{', '.join(a.capitalize() for a in approx)} are approximate: "
                                         f"{session.stems.model} separates the vocals, the rest is a DSP split "
                                         "of the accompaniment.")
            self.approx_note.setVisible(bool(approx))
            self.empty_label.hide()
            self._say(f"Stems by {session.stems.model}" + (" (approximate)" if approx else ""))
        else:
            self.approx_note.hide()
            self.empty_label.show()
            self._say("")
        self._update_buttons()
        self.session_changed.emit(session)

    def _row_changed(self, name: str, mix: Any) -> None:
        if self.session is None:
            return
        self.session.set_setting(name, mix)
        self.preview.changed()

    def reset(self) -> None:
        if self.session is None:
            return
        self.session.reset()
        for name, r in self.rows.items():
            r.set_mix(self.session.setting(name))
        self.preview.changed()

    def _say(self, text: str, kind: str = "") -> None:
        self.status.setText(text)
        self.status.setStyleSheet(_status_style(kind))

    # -- separating ------------------------------------------------------------------------------
    def separate(self) -> Job | None:
        """Separate the clip's visible audio with the chosen model, as a job."""
        from seedwave_plugins.stems.effects import StemsEffect

        self.refresh()  # the selection may have changed a moment ago
        clip = self._clip()
        if clip is None:
            self.host.ui.message("Select a clip to remix first")
            return None
        if self.sep_job is not None and self.sep_job.active:
            return self.sep_job
        if not self.models.installed():
            self.models.update_note()
            self.host.ui.message(self.model_note.text())
            return None
        track = self.host.document.project.find_clip(clip.id)[0]
        seq, rate, model = clip.visible_audio(), self.host.document.project.sample_rate, self.models.name()
        fx = self.host.models
        policy, models, gpu = fx.device_policy(), fx.manager(), fx.uses_gpu_slot(StemsEffect())

        def work(ctx: TaskContext) -> Any:
            from seedwave_plugins.stems.api import separate

            ectx = EffectContext(ctx, "cpu", models)
            ectx.device = devices.resolve_device(True, policy, ectx.warn, StemsEffect.title)
            return separate(seq, rate, model, ectx)

        job = Job(f"Separate stems ({model})", work, gpu=gpu, kind="effect")
        self.host.jobs.relay(job, lambda stems: self._separated(job, track.id, clip.id, seq, stems),
                             lambda msg: self._sep_ended(job, f"Separation failed: {msg}", "error"),
                             lambda: self._sep_ended(job, "Separation cancelled"))
        job.progressed.connect(self._progress)
        self.sep_job = job
        self.preview.stop()
        self.progress.setValue(0)
        self.progress.setFormat("Starting…")
        self.progress.show()
        self.cancel_button.show()
        self._say("")
        self._update_buttons()
        self.host.jobs.submit(job)
        return job

    def cancel(self) -> None:
        if self.sep_job is not None and self.sep_job.active:
            self._say("Cancelling…")
            self.sep_job.cancel()  # a queued job ends at once (and says so)

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(f"{message or 'Separating'} %p%")

    def _sep_ended(self, job: Job, text: str, kind: str = "") -> None:
        if job is self.sep_job:
            self.progress.hide()
            self.cancel_button.hide()
            self._say(text, kind)
            self._update_buttons()
        if kind == "error":
            self.host.ui.error(text)
        self.separation_finished.emit(job)

    def _separated(self, job: Job, track_id: str, clip_id: str, seq: AudioSeq, stems: Any) -> None:
        session = StemSession(track_id, clip_id, seq, stems)
        if not session.usable(self.host.document.project):
            self._sep_ended(job, "The clip changed while it was being separated: separate it again", "warn")
            return
        old = self.sessions.get(clip_id)
        if old is not None and old.stems.model == stems.model and old.usable(self.host.document.project):
            session = old  # same stems: keep the user's settings and processed stems
        self.sessions[clip_id] = session
        self.sessions.move_to_end(clip_id)
        while len(self.sessions) > KEEP_SESSIONS:
            self.sessions.popitem(last=False)
        cached = not stems.provenance.get("computed_windows")
        if clip_id == self.clip_id:
            self._show_session(session)
        self._sep_ended(job, f"Separated with {stems.model}" + (" (from the cache)" if cached else "")
                        + (". " + " ".join(stems.warnings) if stems.warnings else ""))

    # -- applying ---------------------------------------------------------------------------------
    def apply(self) -> Job | None:
        """Replace the clip's audio by the remix: one undo step, with provenance."""
        s = self.session
        if s is None or not s.usable(self.host.document.project):
            self.host.ui.message("Separate the clip first")
            return None
        if s.is_unity and s.state(self.host.document.project) == "original":
            self._say("Nothing to apply: the remix is the original")
            return None
        snap = StemSession(s.track_id, s.clip_id, s.source, s.stems, dict(s.settings), dict(s.processed), s.applied)
        label = f"Remix stems: {describe(snap)}"
        meta = snap.provenance()

        def fn(base: Any, ctx: TaskContext) -> Any:
            return snap.remixed_project(base, snap.remix_seq(ctx=ctx))

        def done(ok: bool) -> None:
            self.apply_job = None
            if ok:
                clip = s.clip(self.host.document.project)
                if clip is not None:
                    s.applied = clip.visible_audio()
                self._say(f"Applied: {describe(snap)}")
            self._update_buttons()
            self.applied.emit(ok)

        track_id = self.host.document.project.find_clip(s.clip_id)[0].id
        self.apply_job = self.host.document.apply_async(fn, label, track_ids=(track_id,), meta=meta, on_done=done,
                                                     kind="effect")
        self._update_buttons()
        return self.apply_job

    def extract(self) -> bool:
        """Each stem on a new track below the source track (muted): one undo step."""
        s = self.session
        if s is None or not s.usable(self.host.document.project):
            self.host.ui.message("Separate the clip first")
            return False
        notes: list[str] = []

        def fn(p: Any) -> Any:
            project, n = s.extracted_project(p)
            notes.extend(n)
            return project

        ok = self.host.document.apply(fn, "Extract stems to tracks", meta=s.provenance())
        if ok:
            text = f"{len(s.names)} stem tracks added; the source track is muted"
            self._say(text + ("; " + "; ".join(notes) if notes else ""), "warn" if notes else "")
            self.host.ui.message(text)
        return ok

    # -- an effect on one stem ----------------------------------------------------------------------
    def choose_stem_effect(self, stem: str, effect_id: str) -> None:
        """Ask for the effect's parameters (if it has any), then run it on the stem."""
        try:
            effect = self.host.effects.registry.get(effect_id)
        except SeedwaveError as exc:
            self.host.ui.error(str(exc))
            return
        if not effect.params:
            self.run_stem_effect(stem, effect_id, {})
            return
        if self.fx_dialog is not None:
            self.fx_dialog.reject()
        dlg = StemEffectDialog(effect, stem, self)
        dlg.accepted.connect(lambda: self.run_stem_effect(stem, effect_id, dlg.values()))
        dlg.finished.connect(lambda _r: self._dialog_closed(dlg))
        self.fx_dialog = dlg
        dlg.open()

    def _dialog_closed(self, dlg: StemEffectDialog) -> None:
        if self.fx_dialog is dlg:
            self.fx_dialog = None
        dlg.deleteLater()

    def run_stem_effect(self, stem: str, effect_id: str, params: dict[str, Any]) -> Job | None:
        """Run ``effect_id`` on one stem of the current session, as a job; the result
        replaces that stem in the working set and the remix uses it."""
        s = self.session
        if s is None or not s.usable(self.host.document.project) or stem not in s.names:
            self.host.ui.message("Separate the clip first")
            return None
        try:
            effect = self.host.effects.registry.get(effect_id)
            values = effect.resolve_params(params)
        except SeedwaveError as exc:
            self.host.ui.error(str(exc))
            return None
        fx = self.host.models
        key = (s.clip_id, stem)
        prev = s.processed.get(stem)  # effects chain: each one processes the working stem
        job = stem_effect_job(effect, stem, s.audio(stem), s.rate, values, fx.device_policy(), fx.manager(),
                              fx.uses_gpu_slot(effect))

        def ok(result: Any) -> None:
            title = f"{prev.title} + {effect.title}" if prev else effect.title
            steps = [*(prev.steps if prev else []), dict(result.provenance)]
            try:
                s.set_processed(stem, ProcessedStem(result.audio, title, steps))
            except SeedwaveError as exc:
                ended(f"{job.title}: {exc}", "error")
                return
            if self.session is s and stem in self.rows:
                self.rows[stem].set_processed(title)
                self.preview.changed()
            ended(f"{stem.capitalize()}: processed with {effect.title}; the remix uses it")

        def ended(text: str, kind: str = "") -> None:
            self.fx_jobs.pop(key, None)
            if self.session is s:
                self._say(text, kind)
            if kind == "error":
                self.host.ui.error(text)
            self._update_buttons()
            self.stem_effect_finished.emit(job)

        self.host.jobs.relay(job, ok, lambda msg: ended(f"{job.title} failed: {msg}", "error"),
                             lambda: ended(f"{job.title}: cancelled"))
        self.fx_jobs[key] = job
        self._say(f"Running {job.title}…")
        self._update_buttons()
        self.host.jobs.submit(job)
        return job

    def revert_stem(self, stem: str) -> None:
        """Use the separated stem again instead of a processed one."""
        s = self.session
        if s is None:
            return
        s.set_processed(stem, None)
        if stem in self.rows:
            self.rows[stem].set_processed(None)
        self.preview.changed()
        self._say(f"{stem.capitalize()}: back to the separated stem")

    # -- preview ----------------------------------------------------------------------------------------
    def _preview_state(self) -> None:
        self.play_button.setText("Stop preview" if self.preview.playing else "Preview")
        b = self.variant_buttons.get(self.preview.variant)
        if b is not None:
            b.setChecked(True)

    def showEvent(self, e) -> None:  # noqa: N802, ANN001 - models may have been installed meanwhile
        super().showEvent(e)
        self.models.update_note()


# --------------------------------------------------------------------------- installing


def show_remix(host: Host) -> None:
    """Effects > Stem Remix Panel…: open the panel on the selected clip."""
    panel = host.ui.show_panel(PANEL_ID)
    if isinstance(panel, RemixPanel):
        panel.refresh()
