/** One problem, as the canonical API reports it and as a failed job records it. */
export interface ErrorItem {
  code: string;
  title: string;
  detail: string;
  pointer?: string;
}
