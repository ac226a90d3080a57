"""``descentlab serve``: the playground, a local web page over the lab and the trainer.

Needs the ``web`` extra (``pip install "descentlab[web]"``): FastAPI and uvicorn are imported
only by :mod:`descentlab.web.app`, never by the rest of the package.
"""
