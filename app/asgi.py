"""The ASGI entry point for uvicorn workers: `uvicorn app.asgi:app`.

uvicorn run this way writes its own access log; its lines lose their query strings here
(`app.access_log.DropQueryStrings`), where signed export links carry their `sig`.
"""

import logging

from app.access_log import DropQueryStrings
from app.main import create_app

logging.getLogger("uvicorn.access").addFilter(DropQueryStrings())
app = create_app()
