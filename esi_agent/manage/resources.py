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
"""``esi-agent-manage resource show``: the records of one resource."""

from cliff import show

from esi_agent import etcd
from esi_agent.jobs import store
from esi_agent.manage import base
from esi_agent import records


def record_keys(resource_type, resource_id):
    """The three records of SPEC section 5, then the recorded version."""
    return (records.heat_stacks_key(resource_type, resource_id),
            records.job_state_key(resource_type, resource_id),
            records.state_key(resource_type, resource_id),
            store.version_key(resource_type, resource_id))


class Show(show.ShowOne):
    """Show the records of a resource, read at one etcd revision.

    The fields are the etcd keys: the heat_stacks, job_state and state
    records, and the version the agents last recorded.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('type', help='The resource type, singular as '
                                         'in a job (port).')
        parser.add_argument('id', help='The resource id.')
        return parser

    def take_action(self, parsed_args):
        keys = record_keys(parsed_args.type, parsed_args.id)
        result = self.app.etcd.txn(
            compare=[], success=[etcd.op_range(key) for key in keys])
        values = []
        for index, key in enumerate(keys):
            kvs = result.range_kvs(index)
            if not kvs:
                values.append(None)
            elif key.startswith(store.VERSIONS_PREFIX):
                values.append(int(kvs[0].value))
            else:
                try:
                    values.append(base.Json(kvs[0].json()))
                except ValueError:
                    values.append(kvs[0].value.decode('utf-8', 'replace'))
        if all(value is None for value in values):
            raise base.ManageError('No records for %s %s' % (
                parsed_args.type, parsed_args.id))
        return keys, values
