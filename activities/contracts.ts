/**
 * What only the Temporal adapter layer needs: the task queues the worker polls and the workflow routes
 * activities to. The JSON the activities exchange lives in contracts/ (Temporal-free).
 */
export interface TaskQueues {
  orchestration: string;
  training: string;
  evaluation: string;
}

export function taskQueuesFor(prefix: string): TaskQueues {
  return {
    orchestration: `${prefix}-orchestration`,
    training: `${prefix}-training`,
    evaluation: `${prefix}-evaluation`,
  };
}
