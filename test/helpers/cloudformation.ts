import { readFileSync } from 'node:fs';
import { type CollectionTag, parse, type ScalarTag, YAMLMap, YAMLSeq } from 'yaml';
import { dnsSuffixOf, partitionOf } from '../../ops/policy-arn.ts';

/**
 * A CloudFormation template evaluated the way CloudFormation evaluates it for one set of parameters: parameter
 * constraints and rules checked, conditions decided, every intrinsic function the shipped templates use resolved,
 * AWS::NoValue removed. Physical ids are the names CloudFormation would give (the templates name their resources).
 * What the tests compare, lint and send to the service models; moto's CloudFormation resolves the same template
 * independently, and the integration test holds the two equal.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Template {
  readonly Parameters: Record<string, JsonObject>;
  readonly Rules?: Record<string, JsonObject>;
  readonly Conditions?: Record<string, Json>;
  readonly Mappings?: Record<string, Record<string, JsonObject>>;
  readonly Resources: Record<string, JsonObject>;
  readonly Outputs?: Record<string, JsonObject>;
}

export interface StackInput {
  readonly account: string;
  readonly region: string;
  readonly stackName: string;
  /** As `--parameter-overrides` gives them: every value a string, lists comma-separated. */
  readonly parameters: Readonly<Record<string, string>>;
}

export interface Resource {
  readonly Type: string;
  readonly Properties: JsonObject;
}

export interface EvaluatedStack {
  readonly conditions: Readonly<Record<string, boolean>>;
  /** The resources whose condition holds, resolved. */
  readonly resources: Readonly<Record<string, Resource>>;
  readonly outputs: Readonly<Record<string, Json>>;
}

/** CloudFormation refused the parameters (constraints, rules): every problem, as CloudFormation would. */
export class StackInputError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'StackInputError';
    this.problems = problems;
  }
}

const FUNCTIONS = [
  'FindInMap',
  'Join',
  'Select',
  'Split',
  'Sub',
  'And',
  'Equals',
  'If',
  'Not',
  'Or',
  'EachMemberEquals',
];

/** The YAML short forms (`!Sub`, `!GetAtt A.B`, ...) as their long forms (`Fn::Sub`, ...). */
const SHORT_FORMS: (ScalarTag | CollectionTag)[] = [
  { tag: '!Ref', resolve: (s: string) => ({ Ref: s }) },
  { tag: '!Condition', resolve: (s: string) => ({ Condition: s }) },
  {
    tag: '!GetAtt',
    resolve: (s: string) => ({ 'Fn::GetAtt': [s.slice(0, s.indexOf('.')), s.slice(s.indexOf('.') + 1)] }),
  },
  ...FUNCTIONS.flatMap((name): (ScalarTag | CollectionTag)[] => [
    { tag: `!${name}`, resolve: (s: string) => ({ [`Fn::${name}`]: s }) },
    {
      tag: `!${name}`,
      collection: 'seq',
      nodeClass: YAMLSeq,
      resolve: (seq) => ({ [`Fn::${name}`]: (seq as YAMLSeq).toJSON() }),
    } as CollectionTag,
    {
      tag: `!${name}`,
      collection: 'map',
      nodeClass: YAMLMap,
      resolve: (map) => ({ [`Fn::${name}`]: (map as YAMLMap).toJSON() }),
    } as CollectionTag,
  ]),
];

export function readTemplate(path: string): Template {
  return parse(readFileSync(path, 'utf8'), { customTags: SHORT_FORMS }) as Template;
}

const NO_VALUE = Symbol('AWS::NoValue');
type Value = Json | typeof NO_VALUE | undefined;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Evaluates a template for one stack; throws StackInputError where CloudFormation would refuse the input. */
export function evaluateStack(template: Template, input: StackInput): EvaluatedStack {
  const partition = partitionOf(input.region);
  const pseudo: Record<string, Json> = {
    'AWS::AccountId': input.account,
    'AWS::Region': input.region,
    'AWS::Partition': partition,
    'AWS::URLSuffix': dnsSuffixOf(input.region),
    'AWS::StackName': input.stackName,
    'AWS::StackId': `arn:${partition}:cloudformation:${input.region}:${input.account}:stack/${input.stackName}/1`,
  };
  const params = parameterValues(template, input.parameters);

  const conditions: Record<string, boolean> = {};
  const deciding = new Set<string>();
  const condition = (name: string): boolean => {
    if (name in conditions) return conditions[name]!;
    const spec = template.Conditions?.[name];
    if (spec === undefined) throw new Error(`no condition "${name}"`);
    if (deciding.has(name)) throw new Error(`condition "${name}" refers to itself`);
    deciding.add(name);
    conditions[name] = truth(resolve(spec));
    return conditions[name];
  };
  const truth = (v: Value): boolean => {
    if (typeof v !== 'boolean') throw new Error(`a condition evaluated to ${JSON.stringify(v)}, not a boolean`);
    return v;
  };

  const resolved: Record<string, Resource> = {};
  const resolving = new Set<string>();
  const resource = (id: string): Resource => {
    if (id in resolved) return resolved[id]!;
    const spec = template.Resources[id];
    if (!spec) throw new Error(`no resource "${id}"`);
    if (typeof spec.Condition === 'string' && !condition(spec.Condition)) {
      throw new Error(`resource "${id}" is not created (condition ${spec.Condition}) but is referred to`);
    }
    if (resolving.has(id)) throw new Error(`resource "${id}" refers to itself`);
    resolving.add(id);
    const properties = resolve(spec.Properties ?? {});
    resolved[id] = { Type: String(spec.Type), Properties: properties as JsonObject };
    return resolved[id];
  };
  const ref = (name: string): Json => {
    if (name in pseudo) return pseudo[name]!;
    if (name in params) return params[name]!;
    const r = resource(name);
    return physical(r).ref;
  };
  const getAtt = (id: string, attribute: string): Json => {
    const value = physical(resource(id)).attributes[attribute];
    if (value === undefined) throw new Error(`Fn::GetAtt ${id}.${attribute}: not modelled here`);
    return value;
  };
  const physical = (r: Resource) => {
    const name = PHYSICAL[r.Type];
    if (!name) throw new Error(`${r.Type}: its Ref and attributes are not modelled here`);
    return name(r.Properties, { partition, account: input.account, region: input.region });
  };

  const sub = (text: string, vars: Record<string, Json>): string =>
    text.replace(/\$\{(!?)([^}]+)\}/g, (_, literal: string, name: string) => {
      if (literal) return `\${${name}}`;
      if (name in vars) return scalar(vars[name]!, `\${${name}}`);
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::')) return scalar(getAtt(name.slice(0, dot), name.slice(dot + 1)), name);
      return scalar(ref(name), `\${${name}}`);
    });

  const resolve = (node: Json): Value => {
    if (Array.isArray(node)) return node.map(resolve).filter((v): v is Json => v !== NO_VALUE && v !== undefined);
    if (!isObject(node)) return node;
    const keys = Object.keys(node);
    if (keys.length === 1) {
      const [key] = keys as [string];
      const arg = node[key]!;
      const args = () => (arg as Json[]).map((a) => resolve(a) as Json);
      switch (key) {
        case 'Ref':
          return arg === 'AWS::NoValue' ? NO_VALUE : ref(String(arg));
        case 'Condition':
          return condition(String(arg));
        case 'Fn::GetAtt':
          return getAtt(String((arg as Json[])[0]), String((arg as Json[])[1]));
        case 'Fn::Sub': {
          if (typeof arg === 'string') return sub(arg, {});
          const [text, vars] = arg as [string, JsonObject];
          return sub(text, resolve(vars) as Record<string, Json>);
        }
        case 'Fn::Join': {
          const [delimiter, list] = args() as [string, Json[]];
          return list.map((v) => scalar(v, 'Fn::Join')).join(delimiter);
        }
        case 'Fn::Split': {
          const [delimiter, text] = args() as [string, string];
          return text.split(delimiter);
        }
        case 'Fn::Select': {
          const [index, list] = args() as [string | number, Json[]];
          const item = list[Number(index)];
          if (item === undefined) throw new Error(`Fn::Select: index ${index} out of ${list.length}`);
          return item;
        }
        case 'Fn::FindInMap': {
          const [map, top, second] = args().map((a) => scalar(a, 'Fn::FindInMap'));
          const value = template.Mappings?.[map!]?.[top!]?.[second!];
          if (value === undefined) throw new Error(`Fn::FindInMap: no ${map}.${top}.${second}`);
          return value;
        }
        case 'Fn::If': {
          const [name, then, otherwise] = arg as [string, Json, Json];
          return condition(name) ? resolve(then) : resolve(otherwise);
        }
        case 'Fn::Equals': {
          const [a, b] = args();
          return JSON.stringify(a) === JSON.stringify(b);
        }
        case 'Fn::Not':
          return !truth(args()[0]);
        case 'Fn::And':
          return args().every(truth);
        case 'Fn::Or':
          return args().some(truth);
        case 'Fn::EachMemberEquals': {
          const [list, value] = args() as [Json[], Json];
          return list.every((v) => v === value);
        }
        default:
          if (key.startsWith('Fn::')) throw new Error(`${key}: not modelled here`);
      }
    }
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(node)) {
      const r = resolve(v);
      if (r !== NO_VALUE && r !== undefined) out[k] = r;
    }
    return out;
  };

  const problems: string[] = [];
  for (const [name, rule] of Object.entries(template.Rules ?? {})) {
    if (rule.RuleCondition !== undefined && !truth(resolve(rule.RuleCondition))) continue;
    for (const assertion of (rule.Assertions ?? []) as JsonObject[]) {
      if (!truth(resolve(assertion.Assert!))) problems.push(`rule ${name}: ${String(assertion.AssertDescription)}`);
    }
  }
  if (problems.length > 0) throw new StackInputError(problems);

  for (const [id, spec] of Object.entries(template.Resources)) {
    if (typeof spec.Condition !== 'string' || condition(spec.Condition)) resource(id);
  }
  for (const name of Object.keys(template.Conditions ?? {})) condition(name);
  const outputs: Record<string, Json> = {};
  for (const [name, spec] of Object.entries(template.Outputs ?? {})) {
    if (typeof spec.Condition === 'string' && !condition(spec.Condition)) continue;
    outputs[name] = resolve(spec.Value!) as Json;
  }
  return { conditions, resources: resolved, outputs };
}

function scalar(v: Json, where: string): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`${where}: ${JSON.stringify(v)} is not a scalar`);
}

/** Parameter values as Ref gives them (numbers as strings, lists as arrays), checked as CloudFormation checks them. */
function parameterValues(template: Template, given: Readonly<Record<string, string>>): Record<string, Json> {
  const problems: string[] = [];
  const values: Record<string, Json> = {};
  for (const name of Object.keys(given)) {
    if (!(name in template.Parameters)) problems.push(`parameter ${name}: not in the template`);
  }
  for (const [name, spec] of Object.entries(template.Parameters)) {
    const raw = given[name] ?? (spec.Default === undefined ? undefined : String(spec.Default));
    if (raw === undefined) {
      problems.push(`parameter ${name}: must have a value`);
      continue;
    }
    const type = String(spec.Type);
    const list = type === 'CommaDelimitedList' || type.startsWith('List<');
    const items = list ? raw.split(',') : [raw];
    const pattern = typeof spec.AllowedPattern === 'string' ? new RegExp(`^(?:${spec.AllowedPattern})$`) : undefined;
    for (const item of items) {
      if (pattern && !pattern.test(item)) problems.push(`parameter ${name}: "${item}" does not match ${pattern}`);
    }
    if (Array.isArray(spec.AllowedValues) && !spec.AllowedValues.map(String).includes(raw)) {
      problems.push(`parameter ${name}: "${raw}" is not one of ${spec.AllowedValues.join(', ')}`);
    }
    if (typeof spec.MinLength === 'number' && raw.length < spec.MinLength) {
      problems.push(`parameter ${name}: shorter than ${spec.MinLength}`);
    }
    if (type === 'Number') {
      const n = Number(raw);
      if (raw.trim() === '' || Number.isNaN(n)) problems.push(`parameter ${name}: "${raw}" is not a number`);
      if (typeof spec.MinValue === 'number' && n < spec.MinValue)
        problems.push(`parameter ${name}: below ${spec.MinValue}`);
      if (typeof spec.MaxValue === 'number' && n > spec.MaxValue)
        problems.push(`parameter ${name}: above ${spec.MaxValue}`);
    }
    values[name] = list ? items : raw;
  }
  if (problems.length > 0) throw new StackInputError(problems);
  return values;
}

interface Where {
  readonly partition: string;
  readonly account: string;
  readonly region: string;
}
interface Physical {
  readonly ref: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** What Ref and Fn::GetAtt return for each resource type the templates use (from the resource type reference). */
const PHYSICAL: Record<string, (p: JsonObject, w: Where) => Physical> = {
  'AWS::IAM::Role': (p, w) => ({
    ref: String(p.RoleName),
    attributes: { Arn: `arn:${w.partition}:iam::${w.account}:role/${p.RoleName}` },
  }),
  'AWS::Logs::LogGroup': (p, w) => ({
    ref: String(p.LogGroupName),
    attributes: { Arn: `arn:${w.partition}:logs:${w.region}:${w.account}:log-group:${p.LogGroupName}:*` },
  }),
  // A new stack registers revision 1.
  'AWS::ECS::TaskDefinition': (p, w) => ({
    ref: `arn:${w.partition}:ecs:${w.region}:${w.account}:task-definition/${p.Family}:1`,
    attributes: {},
  }),
  'AWS::ECS::Service': (p, w) => ({
    ref: `arn:${w.partition}:ecs:${w.region}:${w.account}:service/${p.Cluster}/${p.ServiceName}`,
    attributes: { Name: String(p.ServiceName) },
  }),
  'AWS::Scheduler::ScheduleGroup': (p, w) => ({
    ref: String(p.Name),
    attributes: { Arn: `arn:${w.partition}:scheduler:${w.region}:${w.account}:schedule-group/${p.Name}` },
  }),
  'AWS::Scheduler::Schedule': (p, w) => ({
    ref: String(p.Name),
    attributes: { Arn: `arn:${w.partition}:scheduler:${w.region}:${w.account}:schedule/${p.GroupName}/${p.Name}` },
  }),
  'AWS::Events::Rule': (p, w) => ({
    ref: String(p.Name),
    attributes: { Arn: `arn:${w.partition}:events:${w.region}:${w.account}:rule/${p.Name}` },
  }),
  // Secrets Manager appends a dash and six random characters to the name.
  'AWS::SecretsManager::Secret': (p, w) => ({
    ref: `arn:${w.partition}:secretsmanager:${w.region}:${w.account}:secret:${p.Name}-AbCdEf`,
    attributes: { Id: `arn:${w.partition}:secretsmanager:${w.region}:${w.account}:secret:${p.Name}-AbCdEf` },
  }),
  'AWS::SecretsManager::ResourcePolicy': (p) => ({ ref: String(p.SecretId), attributes: { Id: String(p.SecretId) } }),
  'AWS::CloudWatch::Alarm': (p, w) => ({
    ref: String(p.AlarmName),
    attributes: { Arn: `arn:${w.partition}:cloudwatch:${w.region}:${w.account}:alarm:${p.AlarmName}` },
  }),
};

/** The resources of one type, by logical id. */
export function resourcesOfType(stack: EvaluatedStack, type: string): Record<string, JsonObject> {
  return Object.fromEntries(
    Object.entries(stack.resources)
      .filter(([, r]) => r.Type === type)
      .map(([id, r]) => [id, r.Properties]),
  );
}

/**
 * CloudFormation's property names as the API's (`ContainerDefinitions` -> `containerDefinitions`), for the APIs
 * whose members are lower camel case (ECS, CloudWatch Logs). Keys of free-form maps (`Options`, `DockerLabels`) are
 * data and stay as they are.
 */
export function lowerCamel(value: Json, keepKeys = false): Json {
  if (Array.isArray(value)) return value.map((v) => lowerCamel(v));
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      keepKeys ? k : k.charAt(0).toLowerCase() + k.slice(1),
      lowerCamel(v, !keepKeys && (k === 'Options' || k === 'DockerLabels')),
    ]),
  );
}

/**
 * A policy document as IAM reads it: a one-element list is its element (`policy` writes the element where a list
 * parameter gives the template a list of one).
 */
export function iamCanonical(value: Json): Json {
  if (Array.isArray(value)) return value.length === 1 ? iamCanonical(value[0]!) : value.map(iamCanonical);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, iamCanonical(v)]));
  }
  return value;
}
