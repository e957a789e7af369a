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
"""One log line when a service stops answering, one when it is back.

Many threads retry calls to the same service at once; without this, an
outage of etcd or Heat would log one warning per retry of every call.
"""

import threading
import time

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class OutageLog(object):
    """Tracks whether ``service`` is in an outage, and says so once.

    :param service: the name in the messages (``'etcd at http://...'``).
    :param logger: the logger of the module that talks to the service.
    """

    def __init__(self, service, logger=LOG):
        self.service = service
        self._log = logger
        self._lock = threading.Lock()
        self._since = None
        self.outages = 0

    @property
    def since(self):
        """``time.monotonic()`` when the outage began, None when none."""
        return self._since

    def failed(self, error, retrying):
        """A call failed with a transient ``error`` (a text).

        :param retrying: what happens next, for the message.
        """
        with self._lock:
            if self._since is not None:
                return
            self._since = time.monotonic()
            self.outages += 1
        self._log.warning('%(svc)s is unavailable (%(err)s); %(next)s',
                          {'svc': self.service, 'err': error,
                           'next': retrying})

    def answered(self):
        """A call succeeded: ends the outage, if there was one."""
        if self._since is None:
            return
        with self._lock:
            since, self._since = self._since, None
        if since is not None:
            self._log.info('%(svc)s is available again after %(s).1f s',
                           {'svc': self.service,
                            's': time.monotonic() - since})
