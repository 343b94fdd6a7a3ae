"""The app's Vonage webhook routes alone, as a process the crash suite can kill and restart:

    python -m tests.soak.webhook_app PORT      (GROUPSMS_DATABASE_URL, VONAGE_SIGNATURE_SECRET set)
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette

from groupsms.webhooks.vonage import routes

if __name__ == "__main__":
    uvicorn.run(Starlette(routes=routes), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                lifespan="off")
