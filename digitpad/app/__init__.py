"""The app's room: the Gradio page, its events, the API, each visitor's session, the guard.

``launch`` builds and serves the app (``demo.py`` calls it); ``page`` lays it out, ``events``
and ``api`` wire it, ``serving`` is what every event needs, ``sessions`` each visitor's record,
``view`` the result panel's HTML, ``guard`` the limits for a public link, ``gradio_internals``
the one door to Gradio's private internals, and ``web/`` the pad's script and styles.
"""

import os

# No outbound calls at run time: Gradio reads this when it is imported (version check, analytics).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
