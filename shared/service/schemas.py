"""Types the services' response models share."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer

# A UTC time as the APIs have always written it: ISO 8601 with "+00:00" (pydantic's own would say "Z").
IsoTime = Annotated[datetime, PlainSerializer(lambda t: t.isoformat(), return_type=str)]
