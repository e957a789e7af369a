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

from urllib import parse

from heatclient import client as heat_client
from keystoneauth1 import loading as ks_loading
import requests
from requests import adapters
from requests import utils as requests_utils

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
    http = EnvironmentOnceSession()
    for prefix in ('http://', 'https://'):
        http.mount(prefix, adapters.HTTPAdapter(pool_maxsize=size))
    return http


def _no_auth(request):
    return request


class EnvironmentOnceSession(requests.Session):
    """A requests session that reads the environment once per host.

    requests looks the environment up at every request: the proxies
    (``*_proxy``, ``no_proxy``), ``REQUESTS_CA_BUNDLE`` and ``~/.netrc``.
    That was a quarter of the CPU time of a call to Heat. The agent's
    environment does not change while it runs: the settings requests
    derives from it are kept per URL scheme and host (and arguments), with
    the same result.
    """

    MAX_KEPT = 64

    def __init__(self):
        super().__init__()
        self._settings = {}
        self._netrc = {}

    def merge_environment_settings(self, url, proxies, stream, verify,
                                   cert):
        key = (parse.urlsplit(url)[:2],
               None if proxies is None else tuple(sorted(proxies.items())),
               stream, verify, cert)
        try:
            settings = self._settings.get(key)
        except TypeError:   # an argument that cannot be a key
            settings, key = None, None
        if settings is None:
            # requests adds the proxies of the environment to the dict.
            settings = super().merge_environment_settings(
                url, None if proxies is None else dict(proxies), stream,
                verify, cert)
            if key is not None:
                if len(self._settings) >= self.MAX_KEPT:
                    self._settings.clear()
                self._settings[key] = settings
        return dict(settings, proxies=dict(settings['proxies'] or {}))

    def prepare_request(self, request):
        url = parse.urlsplit(request.url)
        if (self.trust_env and not request.auth and not self.auth
                and '@' not in url.netloc):
            host = url[:2]
            if host not in self._netrc:
                if len(self._netrc) >= self.MAX_KEPT:
                    self._netrc.clear()
                self._netrc[host] = requests_utils.get_netrc_auth(
                    request.url)
            # A no-op auth when .netrc has none: requests would look again.
            request.auth = self._netrc[host] or _no_auth
        return super().prepare_request(request)
