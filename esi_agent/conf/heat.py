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

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from esi_agent.i18n import _

heat_group = cfg.OptGroup(
    name='heat',
    title='Heat options',
    help=_('How to reach the Heat orchestration service. The keystoneauth1 '
           'auth, session and adapter options of this group apply; '
           'auth_type = none with endpoint_override talks to a Heat in '
           'noauth mode.'))

opts = [
    cfg.StrOpt('stack_tag', default='esi-agent',
               help=_('Tag put on every stack the agent creates; the agent '
                      'only looks at stacks that carry it.')),
    cfg.IntOpt('default_stack_timeout', default=60, min=1,
               help=_('timeout_mins of a stack whose job has no '
                      'heat_timeout param.')),
    cfg.IntOpt('api_retries', default=5, min=0,
               help=_('How many times a Heat call that failed with a '
                      'transient error (5xx, connection error, timeout) is '
                      'retried, with exponential backoff.')),
    cfg.FloatOpt('api_retry_max_delay', default=10.0, min=0,
                 help=_('Upper bound, in seconds, of the backoff between two '
                        'retries of a Heat call.')),
    cfg.BoolOpt('batch_status_poll', default=True,
                help=_('Ask Heat for the status of the in-flight stacks with '
                       'one stack list call per 100 stacks. When false, '
                       'each stack is asked for by itself (one call per '
                       'stack and poll; for comparison, or for a Heat that '
                       'refuses the list call).')),
    cfg.BoolOpt('notifications_enabled', default=True,
                help=_('Listen to Heat\'s notifications on the message bus '
                       '(Heat\'s [oslo_messaging_notifications] driver '
                       'must be messagingv2) and finish a job as soon as '
                       'the terminal notification of its stack arrives. '
                       'Notifications are hints: the periodic poll of '
                       '[agent] reconcile_interval still finishes the jobs '
                       'whose notification was lost.')),
    cfg.StrOpt('notifications_topic', default='notifications',
               help=_('Topic Heat sends its notifications on (Heat\'s '
                      '[oslo_messaging_notifications] topics).')),
    cfg.StrOpt('notifications_exchange', default='heat',
               help=_('Exchange Heat sends its notifications to (Heat\'s '
                      'control_exchange).')),
    cfg.StrOpt('notifications_pool',
               help=_('Pool (queue name) of the notification listener. '
                      'Unset, the agent consumes the queue '
                      '<topic>.<priority> that Heat fills, shared with any '
                      'other consumer of it: each notification reaches one '
                      'of them only. With several agents, or another '
                      'service consuming Heat\'s notifications, give each '
                      'agent a pool of its own (for example '
                      'esi-agent-<host>) so that it sees every '
                      'notification; such a queue outlives the agent and '
                      'fills while it is down (give it an expiry policy in '
                      'RabbitMQ).')),
]

DEFAULT_SERVICE_TYPE = 'orchestration'

#: Seconds a Heat API call may take: a Heat that does not answer must not
#: hold a worker forever (keystoneauth's default is no timeout).
DEFAULT_TIMEOUT = 60


def register_opts(conf):
    conf.register_group(heat_group)
    conf.register_opts(opts, group=heat_group)
    conf.register_opts(_session_opts(), group=heat_group)
    ks_loading.register_auth_conf_options(conf, heat_group.name)
    conf.register_opts(_adapter_opts(include_deprecated=True),
                       group=heat_group)


def _session_opts():
    """keystoneauth's session options, with a timeout by default."""
    session_opts = ks_loading.get_session_conf_options()
    cfg.set_defaults(session_opts, timeout=DEFAULT_TIMEOUT)
    return session_opts


def _adapter_opts(include_deprecated):
    """keystoneauth's adapter options, defaulting to Heat's service type.

    The default is set on the options themselves rather than with
    ``conf.set_default()``, which ``ConfigOpts.reset()`` would undo, and so
    that the sample configuration shows it.
    """
    adapter_opts = ks_loading.get_adapter_conf_options(
        include_deprecated=include_deprecated)
    cfg.set_defaults(adapter_opts, service_type=DEFAULT_SERVICE_TYPE)
    return adapter_opts


def list_opts():
    return {heat_group: (
        opts
        + _session_opts()
        + ks_loading.get_auth_common_conf_options()
        + ks_loading.get_auth_plugin_conf_options('password')
        + _adapter_opts(include_deprecated=False))}
