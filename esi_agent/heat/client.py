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
import requests
from requests import adapters

from esi_agent.common import masking

GROUP = 'heat'


def get_client(conf):
    """Return a heatclient v1 Client for the ``[heat]`` group of ``conf``.

    The auth plugin, session (TLS, timeout) and adapter (service type,
    interface, region, endpoint override, retries) all come from the
    keystoneauth1 loading helpers, so every keystoneauth option an operator
    knows works here; ``auth_type = none`` plus ``endpoint_override``
    reaches a Heat in noauth mode. The request and response bodies that
    keystoneauth logs at DEBUG are masked (:mod:`esi_agent.common.masking`).
    """
    masking.install()
    auth = ks_loading.load_auth_from_conf_options(conf, GROUP)
    session = ks_loading.load_session_from_conf_options(
        conf, GROUP, auth=auth, session=_http_session(conf))
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


def _http_session(conf):
    """A requests session with a connection for each thread using Heat.

    The Heat workers, the record writers and the periodic poll each keep
    one, rather than requests' default of 10 in all: past those, every
    call would open and close a connection of its own.
    """
    size = (conf.agent.max_concurrent_jobs + conf.agent.record_writers
            + 2)
    http = requests.Session()
    for prefix in ('http://', 'https://'):
        http.mount(prefix, adapters.HTTPAdapter(pool_maxsize=size))
    return http
