"""The digitpad desktop app. The only package that imports tkinter.

Pure-Python parts (``editor``, ``review_draft``, ``history``, ``drawing``, ``handles``,
``commands``, ``jobs``, ``services``, ``trace``) import no tkinter and are tested without a
display. The Tk parts (``app``, ``canvas_view``, ``side_panel``, ``status_bar``,
``stats_window``, ``help_overlay``) only render state and forward input; worker threads never
touch Tk, they put events on a queue.
"""
