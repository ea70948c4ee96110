import { expect, it } from 'vitest';
import { writeWatchExample } from '../examples/write-watch.js';

it('the README example (GetWriteWatch / ResetWriteWatch) runs', () => {
  expect(writeWatchExample()).toEqual({ first: [3, 4, 10], second: [4], third: [4] });
});
