// Scores a tool's answers against the ground truth: overall, per behaviour,
// and as a confusion matrix. An address without an answer counts as wrong.

import type { TruthRecord } from "../world/generate";

export interface Answer {
  result: string;
  catch_all: boolean;
}

export interface BehaviourScore {
  count: number;
  correct: number;
  accuracy: number;
  /** Wrong answers for this behaviour, by the class given ("missing" when there was no answer). */
  wrong: Record<string, number>;
}

export interface Accuracy {
  total: number;
  answered: number;
  /** The class matches the truth. */
  correct: number;
  accuracy: number;
  /** The class and the catch_all flag both match. */
  correctWithCatchAll: number;
  accuracyWithCatchAll: number;
  byBehaviour: Record<string, BehaviourScore>;
  /** truth class → answered class → count */
  confusion: Record<string, Record<string, number>>;
}

export function score(truth: Map<string, TruthRecord>, answers: Map<string, Answer>): Accuracy {
  let answered = 0;
  let correct = 0;
  let correctWithCatchAll = 0;
  const byBehaviour: Record<string, BehaviourScore> = {};
  const confusion: Record<string, Record<string, number>> = {};
  for (const [email, t] of truth) {
    const answer = answers.get(email);
    const given = answer?.result ?? "missing";
    if (answer) answered++;
    const right = given === t.result;
    if (right) correct++;
    if (right && answer?.catch_all === t.catch_all) correctWithCatchAll++;
    byBehaviour[t.behaviour] ??= { count: 0, correct: 0, accuracy: 0, wrong: {} };
    const group = byBehaviour[t.behaviour]!;
    group.count++;
    if (right) group.correct++;
    else group.wrong[given] = (group.wrong[given] ?? 0) + 1;
    confusion[t.result] ??= {};
    const row = confusion[t.result]!;
    row[given] = (row[given] ?? 0) + 1;
  }
  for (const group of Object.values(byBehaviour)) group.accuracy = group.correct / group.count;
  const total = truth.size;
  return {
    total,
    answered,
    correct,
    accuracy: total ? correct / total : 0,
    correctWithCatchAll,
    accuracyWithCatchAll: total ? correctWithCatchAll / total : 0,
    byBehaviour,
    confusion,
  };
}
