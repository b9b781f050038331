"""The POS/admin HTTP API under /api/v1: routes in `routes`, request and response models in `schemas`."""
