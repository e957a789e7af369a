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

from oslo_config import cfg

from esi_agent.i18n import _

agent_group = cfg.OptGroup(
    name='agent',
    title='Agent options',
    help=_('How the agent takes jobs from the bus and schedules them.'))

opts = [
    cfg.StrOpt('rpc_topic',
               default='esi-agent',
               help=_('RPC topic the agent listens on for process_job casts '
                      'from the ESI API. Every agent of one deployment '
                      'serves the same topic.')),
    cfg.IntOpt('max_concurrent_jobs',
               default=16, min=1,
               mutable=True,
               help=_('How many jobs may talk to Heat at once (resolve, '
                      'render and create/update/delete calls). Stacks that '
                      'Heat is still building do not count.')),
    cfg.IntOpt('dependency_timeout',
               default=3600, min=1,
               mutable=True,
               help=_('Seconds a job may wait for the jobs and resources it '
                      'depends on before it fails with an error naming what '
                      'it waited for.')),
    cfg.IntOpt('service_outage_timeout',
               default=600, min=1,
               mutable=True,
               help=_('Seconds a job keeps being retried, with backoff, '
                      'while etcd or Heat does not answer (connection '
                      'failures, timeouts, 5xx). Past this, the job fails '
                      'with an error naming the service. A job whose '
                      'failure cannot be written because etcd is down gets '
                      'it written as soon as etcd answers again.')),
    cfg.FloatOpt('reconcile_interval',
                 default=2.0, min=0.1,
                 help=_('Seconds between two polls of Heat for the stacks of '
                        'in-flight jobs.')),
    cfg.FloatOpt('schedule_interval',
                 default=1.0, min=0.05,
                 help=_('Upper bound, in seconds, between two readiness '
                        'passes over waiting jobs. A pass also runs at once '
                        'whenever a job arrives or finishes.')),
    cfg.IntOpt('max_job_size',
               default=512 * 1024, min=1024,
               help=_('Largest job, in bytes of its JSON form, that the '
                      'agent accepts; a larger one is rejected with a '
                      'state record saying so.')),
    cfg.IntOpt('lease_ttl',
               default=10, min=2,
               help=_('Seconds an agent that stopped answering keeps its '
                      'jobs: its etcd lease (and so its claims and its '
                      'membership of the agents group) expires after this '
                      'long, and the other agents take its unfinished '
                      'jobs over within two lease TTLs.')),
    cfg.FloatOpt('sync_interval',
                 default=0.5, min=0.05,
                 help=_('Seconds between two reads of the jobs that '
                        'changed in etcd (written by other agents). The '
                        'claims of all unfinished jobs, which tell which '
                        'agent is gone, are read every quarter of '
                        'lease_ttl, and at least this far apart.')),
    cfg.StrOpt('coordination_group',
               default='esi-agent',
               help=_('tooz group the agents of one deployment join; the '
                      'hash ring over its members decides which agent '
                      'takes over the jobs of a dead one.')),
    cfg.IntOpt('record_writers',
               default=8, min=1,
               help=_('Threads that write job completions (records) to '
                      'etcd in parallel.')),
    cfg.PortOpt('metrics_port',
                default=0,
                help=_('TCP port of the Prometheus metrics endpoint '
                       '(http://<metrics_host>:<metrics_port>/metrics): '
                       'the jobs by state, job durations, Heat and etcd '
                       'requests and errors, intake counters. 0 serves '
                       'no metrics.')),
    cfg.HostAddressOpt('metrics_host',
                       default='127.0.0.1',
                       help=_('Address the metrics endpoint listens on '
                              '(with metrics_port set); 0.0.0.0 or :: for '
                              'every interface.')),
]


def register_opts(conf):
    conf.register_group(agent_group)
    conf.register_opts(opts, group=agent_group)


def list_opts():
    return {agent_group: opts}
