-- Near-match checks of a new client code look codes up by their last two characters (the
-- birth year's digits): an index on them, so the check reads a hundredth of the codes, not all.
CREATE INDEX records_uic_end ON records (substr(uic, -2), uic) WHERE collection = 'clients';
