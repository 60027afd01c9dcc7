/**
 * Custom search attributes: what the Web UI's list view and `imcnas list` filter and sort searches by.
 * The dev server allows 3 Int, 3 Double and 10 Keyword attributes; we stay well within that.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SEARCH_ATTRIBUTE_TYPES = {
  ImcnasStage: 'Keyword',
  ImcnasDataset: 'Keyword',
  ImcnasSearchName: 'Keyword',
  ImcnasGeneration: 'Int',
  ImcnasBestAccuracy: 'Double',
  ImcnasBestEdap: 'Double',
} as const;

export const STAGE = defineSearchAttributeKey('ImcnasStage', SearchAttributeType.KEYWORD);
export const DATASET = defineSearchAttributeKey('ImcnasDataset', SearchAttributeType.KEYWORD);
export const SEARCH_NAME = defineSearchAttributeKey('ImcnasSearchName', SearchAttributeType.KEYWORD);
export const GENERATION = defineSearchAttributeKey('ImcnasGeneration', SearchAttributeType.INT);
export const BEST_ACCURACY = defineSearchAttributeKey('ImcnasBestAccuracy', SearchAttributeType.DOUBLE);
export const BEST_EDAP = defineSearchAttributeKey('ImcnasBestEdap', SearchAttributeType.DOUBLE);
