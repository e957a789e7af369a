# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.
"""A python-heatclient built from the keystoneauth1 options of ``[heat]``."""

from heatclient import client as heat_client
from keystoneauth1 import loading as ks_loading

GROUP = 'heat'


def get_client(conf):
    """Return a heatclient v1 Client for the ``[heat]`` group of ``conf``.

    The auth plugin, session (TLS, timeout) and adapter (service type,
    interface, region, endpoint override, retries) all come from the
    keystoneauth1 loading helpers, so every keystoneauth option an operator
    knows works here; ``auth_type = none`` plus ``endpoint_override``
    reaches a Heat in noauth mode.
    """
    auth = ks_loading.load_auth_from_conf_options(conf, GROUP)
    session = ks_loading.load_session_from_conf_options(conf, GROUP,
                                                        auth=auth)
    adapter = ks_loading.load_adapter_from_conf_options(
        conf, GROUP, session=session, auth=auth)
    return heat_client.Client(
        '1',
        session=session,
        auth=auth,
        service_type=adapter.service_type or 'orchestration',
        service_name=adapter.service_name,
        interface=adapter.interface,
        region_name=adapter.region_name,
        endpoint_override=adapter.endpoint_override,
        connect_retries=adapter.connect_retries,
        status_code_retries=adapter.status_code_retries)
