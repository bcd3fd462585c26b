"""HTTP surface: routers, request/response models, and the one place domain errors become HTTP."""

from optiloop.blas import cap_threads

cap_threads()  # a serving process: see optiloop.blas
