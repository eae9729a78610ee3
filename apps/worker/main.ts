// The worker app alone, for split deployments (docker-compose.yml runs gateway and worker apart).
import '../v8-flags';
import { runFromCli } from '../switchyard';

void runFromCli(['worker']);
