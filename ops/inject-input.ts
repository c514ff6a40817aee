import { UsageError } from '../shared/errors.ts';
import { isObj, type Obj } from '../shared/json.ts';

/**
 * Fields `describe-task-definition` prints that `register-task-definition` refuses (read-only, set by ECS): the
 * members of the ECS model's `TaskDefinition` shape that `RegisterTaskDefinitionRequest` lacks. A test derives
 * this list from botocore's service model, so a field ECS adds is noticed.
 */
export const READ_ONLY_FIELDS = Object.freeze([
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'deregisteredAt',
  'deleteRequestedAt',
  'registeredBy',
]);

export interface TaskDefinitionInput {
  /** A register-task-definition input (`--cli-input-json`). */
  readonly taskDefinition: Obj;
  readonly from: 'describe' | 'register';
}

/**
 * Reads a task definition as `aws ecs describe-task-definition` prints it (`{"taskDefinition": {...}, "tags": [...]}`)
 * or as a register-task-definition input, and returns the register input: read-only fields dropped, the describe
 * output's `tags` moved in (when non-empty), every other field kept in its order.
 */
export function parseTaskDefinitionInput(text: string, source: string): TaskDefinitionInput {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new UsageError(
      `${source}: not JSON; expected a task definition (describe-task-definition output or a register input)`,
    );
  }
  if (!isObj(doc)) throw new UsageError(`${source}: expected a JSON object with a task definition`);
  if (isObj(doc.taskDefinition)) {
    const extra = Object.keys(doc).filter((k) => k !== 'taskDefinition' && k !== 'tags');
    if (extra.length > 0)
      throw new UsageError(`${source}: unexpected top-level field "${extra[0]}" next to taskDefinition`);
    const td: Obj = {};
    for (const [k, v] of Object.entries(doc.taskDefinition)) if (!READ_ONLY_FIELDS.includes(k)) td[k] = v;
    if (Array.isArray(doc.tags) && doc.tags.length > 0 && td.tags === undefined) td.tags = doc.tags;
    return { taskDefinition: checkShape(td, source), from: 'describe' };
  }
  if ('taskDefinition' in doc) throw new UsageError(`${source}: "taskDefinition" must be an object`);
  const readOnly = Object.keys(doc).filter((k) => READ_ONLY_FIELDS.includes(k));
  if (readOnly.length > 0) {
    // A bare describe output (`--query taskDefinition`): still a task definition, same treatment.
    const td: Obj = {};
    for (const [k, v] of Object.entries(doc)) if (!READ_ONLY_FIELDS.includes(k)) td[k] = v;
    return { taskDefinition: checkShape(td, source), from: 'describe' };
  }
  return { taskDefinition: checkShape(structuredClone(doc), source), from: 'register' };
}

function checkShape(td: Obj, source: string): Obj {
  if (!Array.isArray(td.containerDefinitions)) {
    throw new UsageError(`${source}: no containerDefinitions; is this a task definition?`);
  }
  if (td.containerDefinitions.length === 0) throw new UsageError(`${source}: containerDefinitions is empty`);
  return td;
}
