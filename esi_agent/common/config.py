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
"""Process setup shared by the esi-agent commands."""

from oslo_log import log as logging

from esi_agent import conf as esi_conf
from esi_agent import version

CONF = esi_conf.CONF

DOMAIN = 'esi-agent'


def prepare(argv, default_config_files=None):
    """Parse the command line and config files, then set up logging."""
    logging.register_options(CONF)
    CONF(argv, project=DOMAIN,
         version=version.version_info.version_string(),
         default_config_files=default_config_files)
    logging.setup(CONF, DOMAIN)
