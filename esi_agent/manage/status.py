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
"""``esi-agent-manage status``: the agents alive and their jobs."""

import collections
import os

from cliff import show
from tooz import coordination as tooz_coordination

from esi_agent import conf as esi_conf
from esi_agent import coordination
from esi_agent.jobs import store
from esi_agent.manage import base

CONF = esi_conf.CONF

UNCLAIMED = '(unclaimed)'


def agents_alive(conf):
    """The members of the agents' tooz group ``[agent] coordination_group``.

    The group lives in etcd; an agent leaves it when it stops and drops
    out ``[agent] lease_ttl`` seconds after it dies.
    """
    member = ('esi-agent-manage-%d' % os.getpid()).encode('utf-8')
    coordinator = tooz_coordination.get_coordinator(
        coordination.backend_url(conf), member)
    coordinator.start(start_heart=False)
    try:
        group = conf.agent.coordination_group.encode('utf-8')
        return sorted(m.decode('utf-8') for m in
                      coordinator.get_members(group).get())
    except tooz_coordination.GroupNotCreated:
        return []
    finally:
        coordinator.stop()


class Status(show.ShowOne):
    """Show the agents alive, the jobs by state and who runs what.

    unfinished_by_owner counts the PENDING jobs by the agent that claims
    them (waiting for their dependencies or running); (unclaimed) ones
    are taken over by an agent within two [agent] lease_ttl. An owner
    that is not among the agents alive has died recently.
    """

    def take_action(self, parsed_args):
        stored_jobs, owners, _rev = self.app.store.snapshot()
        try:
            agents = agents_alive(CONF)
        except tooz_coordination.ToozError as e:
            raise base.ManageError('Cannot read the agents group %s: %s'
                                   % (CONF.agent.coordination_group, e))
        states = collections.Counter(s.status for s in stored_jobs)
        unfinished = collections.Counter(
            owners.get(s.job.get('id')) or UNCLAIMED
            for s in stored_jobs if s.status == store.PENDING)
        columns = (('agents', 'agents_alive')
                   + tuple('jobs_%s' % s.lower() for s in
                           (store.PENDING,) + store.FINAL_STATUSES)
                   + ('unfinished_by_owner',))
        values = ((base.Names(agents), len(agents))
                  + tuple(states.get(s, 0) for s in
                          (store.PENDING,) + store.FINAL_STATUSES)
                  + (base.Counts(dict(unfinished)),))
        return columns, values
