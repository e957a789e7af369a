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
"""``esi-agent-manage cast``: send jobs to the agents, as the ESI API does.
"""

import json
import sys

from cliff import lister
from oslo_context import context as oslo_context

from esi_agent.manage import base
from esi_agent import rpcapi


def load_jobs(path, stdin=None):
    """The jobs of a JSON file (``-``: standard input): a job or a list."""
    try:
        if path == '-':
            data = json.load(stdin or sys.stdin)
        else:
            with open(path, encoding='utf-8') as f:
                data = json.load(f)
    except OSError as e:
        raise base.ManageError('Cannot read %s: %s' % (path, e.strerror))
    except ValueError as e:
        raise base.ManageError('%s is not JSON: %s' % (path, e))
    jobs = data if isinstance(data, list) else [data]
    for index, job in enumerate(jobs):
        if not isinstance(job, dict):
            raise base.ManageError('%s: item %d is not a JSON object (a '
                                   'job)' % (path, index))
    return jobs


class Cast(lister.Lister):
    """Cast jobs to the agents through AgentAPI.process_job.

    FILE holds one job (a JSON object, SPEC section 3) or a JSON list of
    jobs; - reads standard input. The jobs go to [agent] rpc_topic on
    [DEFAULT] transport_url, in the order given, and are checked by the
    agent that takes them (see "jobs show" for what became of them).
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('file', metavar='FILE',
                            help='A JSON file of a job or a list of jobs; '
                                 '- for standard input.')
        return parser

    def take_action(self, parsed_args):
        jobs = load_jobs(parsed_args.file, self.app.stdin)
        try:
            api = rpcapi.AgentAPI(retry=self.app.bus_retries())
        except Exception as e:
            raise base.ManageError('Cannot use the message bus: %s' % e)
        context = oslo_context.RequestContext()
        rows = []
        for job in jobs:
            try:
                api.process_job(context, job)
            except Exception as e:
                raise base.ManageError(
                    'Cannot reach the message bus (%s); sent %d of %d jobs'
                    % (e, len(rows), len(jobs)))
            rows.append((job.get('id'), '%s/%s' % (
                job.get('resource_type'), job.get('resource_id')),
                job.get('action'), job.get('version')))
        return ('id', 'resource', 'action', 'version'), rows
