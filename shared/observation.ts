/** A read that worked, or the safe description of why it did not (never an SDK message, never a value). */
export type Observation<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };
