"""Procedural synthetic handwriting: glyphs, non-digit distractors, paper and whole pages.

Modules: ``strokes`` (skeleton geometry, elastic perturbation, rasterising), ``skeletons`` and
``letters`` (stroke skeletons of digit allographs and of letters), ``glyphs`` (styles and the
public ``render_digit`` / ``render_nondigit`` / ``glyph_samples``), ``nondigits`` (distractor
kinds), ``paper`` (backgrounds, ink colours, degradations), ``pages`` (layout with exact ground
truth: ``PageConfig``, ``generate_page``, ``generate_pages``) and ``sheet`` (contact sheet).
Everything is seeded: the same seed gives the same pixels.
"""
