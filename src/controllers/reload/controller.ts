// Kept for the controllers that still import the reload controller by this path; the controller
// is index.ts (its pieces beside it).
export * from './index.ts';
