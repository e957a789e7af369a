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
"""The esi-agent-manage application: options, config, clients."""

import logging
import math

from cliff import app
from cliff import commandmanager

from esi_agent.common import config
from esi_agent import conf as esi_conf
from esi_agent import etcd
from esi_agent import exception
from esi_agent.jobs import store
from esi_agent.manage import base
from esi_agent.manage import cast
from esi_agent.manage import jobs
from esi_agent.manage import resources
from esi_agent.manage import status
from esi_agent import rpc
from esi_agent import version

CONF = esi_conf.CONF

COMMANDS = (
    ('jobs list', jobs.List),
    ('jobs show', jobs.Show),
    ('jobs retry', jobs.Retry),
    ('jobs purge', jobs.Purge),
    ('resource show', resources.Show),
    ('cast', cast.Cast),
    ('status', status.Status),
)

# Libraries whose retry and connection chatter is shown with -v only: by
# default a failure is the command's one-line error.
QUIET_LOGGERS = ('amqp', 'etcd3gw', 'esi_agent.etcd', 'kombu',
                 'oslo.messaging', 'oslo_messaging', 'stevedore', 'tooz',
                 'urllib3')


class ManageApp(app.App):
    """Inspect and repair the jobs of the esi-agents of a deployment.

    Reads the same configuration files as esi-agent (--config-file,
    --config-dir; by default /etc/esi-agent/esi-agent.conf).
    """

    def __init__(self, **streams):
        manager = commandmanager.CommandManager('esi_agent.manage')
        for name, command in COMMANDS:
            manager.add_command(name, command)
        super().__init__(
            description=self.__doc__,
            version=version.version_info.version_string(),
            command_manager=manager, deferred_help=True, **streams)
        self._etcd = None
        self._rpc_used = False

    def build_option_parser(self, description, version,
                            argparse_kwargs=None):
        parser = super().build_option_parser(description, version,
                                             argparse_kwargs)
        parser.add_argument(
            '--config-file', action='append', default=[], metavar='PATH',
            help='A configuration file of esi-agent; may be repeated.')
        parser.add_argument(
            '--config-dir', action='append', default=[], metavar='DIR',
            help='A directory of *.conf files of esi-agent, read after '
                 'the --config-file ones.')
        parser.add_argument(
            '--timeout', type=base.seconds, default=10.0, metavar='SECONDS',
            help='How long a command keeps trying to reach etcd or the '
                 'message bus before it gives up (default: 10).')
        return parser

    def configure_logging(self):
        super().configure_logging()
        if self.options.verbose_level < 2:
            for name in QUIET_LOGGERS:
                logging.getLogger(name).setLevel(logging.CRITICAL)

    def initialize_app(self, argv):
        args = []
        for path in self.options.config_file:
            args += ['--config-file', path]
        for path in self.options.config_dir:
            args += ['--config-dir', path]
        CONF(args, project=config.DOMAIN,
             version=version.version_info.version_string())
        timeout = self.options.timeout
        CONF.set_override('timeout', max(min(CONF.etcd.timeout, timeout),
                                         0.1), group='etcd')
        CONF.set_override('retry_timeout', min(CONF.etcd.retry_timeout,
                                               timeout), group='etcd')

    @property
    def etcd(self):
        """The EtcdClient of ``[etcd]``; ManageError when etcd is down."""
        if self._etcd is None:
            client = etcd.EtcdClient(CONF)
            try:
                client.ping()
            except exception.EtcdError as e:
                raise base.ManageError('Cannot reach etcd at %s: %s'
                                       % (client.endpoint, e.kwargs.get(
                                           'reason', e)))
            self._etcd = client
        return self._etcd

    @property
    def store(self):
        return store.JobStore(self.etcd)

    def bus_retries(self):
        """How many times a cast may retry the bus within ``--timeout``.

        oslo.messaging waits 1, 3, 5, ... seconds (the defaults of
        ``[oslo_messaging_rabbit] rabbit_retry_interval`` and
        ``rabbit_retry_backoff``) before the 1st, 2nd, 3rd... retry: n
        retries take n * n seconds.
        """
        self._rpc_used = True
        return int(math.sqrt(self.options.timeout))

    def clean_up(self, cmd, result, err):
        if self._rpc_used:
            rpc.cleanup()
