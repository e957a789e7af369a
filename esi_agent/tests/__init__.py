# Select the oslo.service threading backend before any test module imports
# oslo_messaging or oslo_service, exactly as the commands do.
from esi_agent import cmd  # noqa: F401
