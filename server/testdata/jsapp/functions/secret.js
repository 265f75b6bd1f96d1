exports = function () {
  return "the private function ran";
};
