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
"""Base of the tests against a real OpenStack Heat.

The Heat is the one ``tools/services/heat`` runs (noauth, PostgreSQL,
RabbitMQ); ``ESI_HEAT_ENDPOINT`` names it. ``tools/run-tests`` starts it
and runs these tests; without it they skip, saying so.
"""

import json
import os
import uuid

from heatclient import client as heat_client
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
import requests

from esi_agent.tests.functional import base

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                    '..'))
DEMO_SCENARIO = os.path.join(REPO, 'etc/esi-agent/demo/'
                             'common_function_gateway.json')
TEMPLATE_DIR = os.path.join(REPO, 'etc/esi-agent/templates')
MAPPING_FILE = os.path.join(REPO, 'etc/esi-agent/template_mappings.json')
ENDPOINT = os.environ.get('ESI_HEAT_ENDPOINT')


class RealHeat(object):
    """The running Heat, with the start/stop of the test stand-in."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        session = ks_session.Session(auth=noauth.NoAuth(endpoint=endpoint))
        self.client = heat_client.Client('1', session=session,
                                         endpoint_override=endpoint)

    def start(self):
        pass

    def stop(self):
        pass

    def stack(self, name):
        return self.client.stacks.get(name)

    def stacks_named(self, name):
        return [s for s in self.client.stacks.list(filters={'name': name})]


def heat_answers():
    if not ENDPOINT:
        return False
    root = ENDPOINT.split('/v1')[0]
    try:
        return requests.get(root, timeout=5).status_code in (200, 300)
    except requests.RequestException:
        return False


class HeatTestCase(base.FunctionalTestCase):

    def setUp(self):
        if not heat_answers():
            self.skipTest('no Heat answers at ESI_HEAT_ENDPOINT=%r; '
                          'tools/run-tests starts one' % ENDPOINT)
        super().setUp()
        self.config(mapping_file=MAPPING_FILE, template_dir=TEMPLATE_DIR,
                    group='templates')
        self.config(reconcile_interval=0.3, group='agent')

    def make_heat(self):
        return RealHeat(ENDPOINT)


def demo_jobs():
    """The demo scenario with fresh resource ids (stacks stay in Heat)."""
    with open(DEMO_SCENARIO, encoding='utf-8') as f:
        text = f.read()
    jobs = json.loads(text)['jobs']
    for rid in {j['resource_id'] for j in jobs}:
        text = text.replace(rid, str(uuid.uuid4()))
    return json.loads(text)['jobs']
