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
"""Base classes for esi-agent tests."""

from oslo_config import fixture as config_fixture
from oslotest import base

from esi_agent import conf as esi_conf

CONF = esi_conf.CONF


class TestCase(base.BaseTestCase):
    """Test case base class for all esi-agent tests.

    Gives each test a clean view of ``cfg.CONF`` (``self.config(...)``
    sets an option for the duration of the test only).
    """

    def setUp(self):
        super().setUp()
        self.cfg_fixture = self.useFixture(config_fixture.Config(CONF))
        CONF([], project='esi-agent', default_config_files=[])

    def config(self, **kw):
        """Override config options for a test."""
        self.cfg_fixture.config(**kw)
