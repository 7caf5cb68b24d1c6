"""Widgets for plugin panels, shared with the host's own panels.

* :mod:`.param_form`: a form built from an effect's parameter schema (``ParamForm``);
* :mod:`.form_extras`: an effect's response curve and "Use selection" buttons in that form;
* :mod:`.fader`: dB faders, pan knobs and their text formats;
* :mod:`.ab_row`: the A/B audition buttons (original, processed, removed...).
"""
